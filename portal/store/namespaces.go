package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"portcullis.dev/tenants/config"
)

// OperatorNamespace is the namespace of the operator's own plugins, such as
// the first-party catalogue. Its plugins keep their bare names: "key-auth"
// and "portcullis/key-auth" name the same plugin, stored as "key-auth".
const OperatorNamespace = "portcullis"

// reservedPluginNames cannot be the name part of a plugin, because the
// plugin endpoints use them as path segments after a bare plugin name.
var reservedPluginNames = map[string]bool{"versions": true, "stats": true}

// Publisher is who publishes or marks a plugin version: the operator, who
// may act in every namespace, or a user, who must be a member of the
// plugin's namespace.
type Publisher struct {
	Operator bool
	// UserID is the user's public id, such as "usr_4f0c2a9e1b7d3c65".
	UserID string
}

// Namespace is a publisher's namespace of plugin names.
type Namespace struct {
	Name string `json:"name"`
	// Owner is the public id of the user who created it.
	Owner     string    `json:"owner"`
	Members   []string  `json:"members"`
	CreatedAt time.Time `json:"created_at"`
}

type namespaceRow struct {
	ID        uint
	Name      string
	OwnerID   *uint
	CreatedAt time.Time
}

func (namespaceRow) TableName() string { return "plugin_namespaces" }

type namespaceMemberRow struct {
	ID          uint
	NamespaceID uint
	UserID      uint
	CreatedAt   time.Time
}

func (namespaceMemberRow) TableName() string { return "plugin_namespace_members" }

// PluginName is a plugin name split into its namespace and its own name.
type PluginName struct {
	Namespace string
	Name      string
}

// String returns the canonical form: the bare name in OperatorNamespace,
// "namespace/name" elsewhere.
func (n PluginName) String() string {
	if n.Namespace == OperatorNamespace {
		return n.Name
	}
	return n.Namespace + "/" + n.Name
}

// ParsePluginName splits "name" or "namespace/name". A name without a
// namespace belongs to OperatorNamespace. Errors are field errors on field.
func ParsePluginName(field, text string) (PluginName, error) {
	namespace, name, qualified := strings.Cut(text, "/")
	if !qualified {
		namespace, name = OperatorNamespace, text
	}
	if qualified {
		if err := validateNamespaceName(field, namespace); err != nil {
			return PluginName{}, err
		}
	}
	if err := config.ValidateName(field, name); err != nil {
		return PluginName{}, fieldError(field, "%q is not a valid plugin name: use \"name\" or \"namespace/name\", where the name has 1 to 63 letters, digits, dots, underscores and hyphens and starts with a letter or digit", text)
	}
	if reservedPluginNames[name] {
		return PluginName{}, fieldError(field, "%q is reserved as a plugin name: choose another name", name)
	}
	return PluginName{Namespace: namespace, Name: name}, nil
}

func validateNamespaceName(field, name string) error {
	if err := config.ValidateSlug(field, name); err != nil {
		return fieldError(field, "%q is not a valid namespace: use 1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit", name)
	}
	return nil
}

// CreateNamespace creates a namespace owned by the user with the public id
// ownerID, who becomes its first member. OperatorNamespace and a taken name
// are ConflictErrors.
func (s *Store) CreateNamespace(ctx context.Context, ownerID, name string) (Namespace, error) {
	if err := validateNamespaceName("name", name); err != nil {
		return Namespace{}, err
	}
	if name == OperatorNamespace {
		return Namespace{}, conflict("namespace %q belongs to the operator: choose another name", name)
	}

	var created Namespace
	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		owner, err := findUser(tx, "public_id", ownerID)
		if err != nil {
			return err
		}
		if _, err := findNamespace(tx, name); err == nil {
			return conflict("namespace %q already exists: choose another name", name)
		} else if !isNotFound(err) {
			return err
		}

		now := tx.NowFunc()
		row := namespaceRow{Name: name, OwnerID: &owner.ID, CreatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("create namespace %q: %w", name, err)
		}
		member := namespaceMemberRow{NamespaceID: row.ID, UserID: owner.ID, CreatedAt: now}
		if err := tx.Create(&member).Error; err != nil {
			return fmt.Errorf("add owner to namespace %q: %w", name, err)
		}
		created = Namespace{Name: name, Owner: owner.PublicID, Members: []string{owner.PublicID}, CreatedAt: now}
		return nil
	})
	return created, err
}

// AddNamespaceMember adds the user with the email to the namespace. Only a
// member or the operator may add one.
func (s *Store) AddNamespaceMember(ctx context.Context, by Publisher, name, email string) (Namespace, error) {
	var updated Namespace
	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		namespace, err := findNamespace(tx, name)
		if err != nil {
			return err
		}
		if err := checkNamespaceMember(tx, by, namespace); err != nil {
			return err
		}
		user, err := findUser(tx, "email", strings.ToLower(strings.TrimSpace(email)))
		if isNotFound(err) {
			return fieldError("email", "no account has the email %q: ask the person to sign up first", email)
		}
		if err != nil {
			return err
		}

		var count int64
		if err := tx.Model(&namespaceMemberRow{}).Where("namespace_id = ? AND user_id = ?", namespace.ID, user.ID).Count(&count).Error; err != nil {
			return fmt.Errorf("read members of namespace %q: %w", name, err)
		}
		if count > 0 {
			return conflict("%q is already a member of namespace %q", email, name)
		}
		if err := tx.Create(&namespaceMemberRow{NamespaceID: namespace.ID, UserID: user.ID, CreatedAt: tx.NowFunc()}).Error; err != nil {
			return fmt.Errorf("add member to namespace %q: %w", name, err)
		}
		updated, err = namespaceView(tx, namespace)
		return err
	})
	return updated, err
}

// GetNamespace returns a namespace with its members' public ids.
func (s *Store) GetNamespace(ctx context.Context, name string) (Namespace, error) {
	var found Namespace
	err := s.read(ctx, func(tx *gorm.DB) error {
		namespace, err := findNamespace(tx, name)
		if err != nil {
			return err
		}
		found, err = namespaceView(tx, namespace)
		return err
	})
	return found, err
}

func namespaceView(tx *gorm.DB, row *namespaceRow) (Namespace, error) {
	view := Namespace{Name: row.Name, Members: []string{}, CreatedAt: row.CreatedAt}

	var members []string
	err := tx.Table("plugin_namespace_members").
		Select("users.public_id").
		Joins("JOIN users ON users.id = plugin_namespace_members.user_id").
		Where("plugin_namespace_members.namespace_id = ?", row.ID).
		Order("plugin_namespace_members.id").
		Pluck("users.public_id", &members).Error
	if err != nil {
		return Namespace{}, fmt.Errorf("read members of namespace %q: %w", row.Name, err)
	}
	view.Members = append(view.Members, members...)

	if row.OwnerID != nil {
		var owner userRow
		if err := tx.Select("public_id").Where("id = ?", *row.OwnerID).Limit(1).Find(&owner).Error; err != nil {
			return Namespace{}, fmt.Errorf("read owner of namespace %q: %w", row.Name, err)
		}
		view.Owner = owner.PublicID
	}
	return view, nil
}

func findNamespace(tx *gorm.DB, name string) (*namespaceRow, error) {
	var row namespaceRow
	result := tx.Where("name = ?", name).Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read namespace %q: %w", name, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "namespace", Name: name}
	}
	return &row, nil
}

// authorizePublisher checks that by may publish into or mark versions of
// the namespace. OperatorNamespace is the operator's alone. Another
// namespace must exist, and a user must be one of its members.
func authorizePublisher(tx *gorm.DB, by Publisher, namespace string) error {
	if namespace == OperatorNamespace {
		if by.Operator {
			return nil
		}
		return forbiddenError("namespace %q belongs to the operator: publish as \"namespace/name\" in a namespace of your own, created with POST /api/v1/namespaces", namespace)
	}

	row, err := findNamespace(tx, namespace)
	if isNotFound(err) && by.Operator {
		return fieldError("name", "namespace %q does not exist: a user creates it with POST /api/v1/namespaces", namespace)
	}
	if isNotFound(err) {
		return forbiddenError("namespace %q does not exist: create it with POST /api/v1/namespaces, or publish in a namespace you belong to", namespace)
	}
	if err != nil {
		return err
	}
	return checkNamespaceMember(tx, by, row)
}

func checkNamespaceMember(tx *gorm.DB, by Publisher, namespace *namespaceRow) error {
	if by.Operator {
		return nil
	}
	var count int64
	err := tx.Table("plugin_namespace_members").
		Joins("JOIN users ON users.id = plugin_namespace_members.user_id").
		Where("plugin_namespace_members.namespace_id = ? AND users.public_id = ?", namespace.ID, by.UserID).
		Count(&count).Error
	if err != nil {
		return fmt.Errorf("read members of namespace %q: %w", namespace.Name, err)
	}
	if count == 0 {
		return forbiddenError("you are not a member of namespace %q: ask one of its members to add you", namespace.Name)
	}
	return nil
}
