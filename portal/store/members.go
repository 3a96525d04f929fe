package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/tenants/config"
)

// membershipRow gives one user one role in one tenant. Deleting the tenant
// or the user deletes it.
type membershipRow struct {
	ID        uint
	TenantID  uint
	UserID    uint
	Role      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (membershipRow) TableName() string { return "memberships" }

// Member is a user's membership in a tenant.
type Member struct {
	// User is the user's public id, the {user} of the member paths.
	User      string        `json:"user"`
	Email     string        `json:"email"`
	Name      string        `json:"name"`
	Role      accounts.Role `json:"role"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// memberView is the result row of the members query.
type memberView struct {
	PublicID  string
	Email     string
	Name      string
	Role      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (v memberView) member() Member {
	return Member{User: v.PublicID, Email: v.Email, Name: v.Name, Role: accounts.Role(v.Role), CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

// membersOf selects the members of one tenant, and nothing of another.
func membersOf(tx *gorm.DB, tenant *tenantRow) *gorm.DB {
	return tx.Table("memberships").
		Select("users.public_id, users.email, users.name, memberships.role, memberships.created_at, memberships.updated_at").
		Joins("JOIN users ON users.id = memberships.user_id").
		Where("memberships.tenant_id = ?", tenant.ID)
}

// CreateTenantOwned creates a tenant like CreateTenant and makes the user
// with the public id owner its owner in the same transaction.
func (s *Store) CreateTenantOwned(ctx context.Context, input config.Tenant, owner string) (Tenant, error) {
	return s.createTenant(ctx, input, func(tx *gorm.DB, tenant *tenantRow) error {
		user, err := findUser(tx, "public_id", owner)
		if err != nil {
			return err
		}
		return insertMember(tx, tenant, user, accounts.RoleOwner)
	})
}

func insertMember(tx *gorm.DB, tenant *tenantRow, user *userRow, role accounts.Role) error {
	row := membershipRow{TenantID: tenant.ID, UserID: user.ID, Role: string(role)}
	err := tx.Create(&row).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return conflict("%q is already a member of tenant %q: change the role with PATCH instead", user.Email, tenant.Slug)
	}
	if err != nil {
		return fmt.Errorf("add %q to tenant %q: %w", user.Email, tenant.Slug, err)
	}
	return nil
}

// MemberRole returns the user's role in the tenant. A user who is not a
// member gets the NotFoundError of a missing tenant, so that a tenant's
// existence never shows to outsiders.
func (s *Store) MemberRole(ctx context.Context, slug, userID string) (accounts.Role, error) {
	var roles []string
	err := s.reader.WithContext(ctx).Table("memberships").
		Joins("JOIN tenants ON tenants.id = memberships.tenant_id").
		Joins("JOIN users ON users.id = memberships.user_id").
		Where("tenants.slug = ? AND users.public_id = ?", slug, userID).
		Limit(1).Pluck("memberships.role", &roles).Error
	if err != nil {
		return "", fmt.Errorf("read role of user %q in tenant %q: %w", userID, slug, err)
	}
	if len(roles) == 0 {
		return "", &NotFoundError{Resource: "tenant", Name: slug}
	}
	return accounts.Role(roles[0]), nil
}

// ListTenantsOf returns the tenants in which the user is a member, ordered
// by slug.
func (s *Store) ListTenantsOf(ctx context.Context, userID string) ([]Tenant, error) {
	var rows []tenantRow
	err := s.reader.WithContext(ctx).
		Joins("JOIN memberships ON memberships.tenant_id = tenants.id").
		Joins("JOIN users ON users.id = memberships.user_id").
		Where("users.public_id = ?", userID).
		Order("tenants.slug").
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list tenants of user %q: %w", userID, err)
	}

	tenants := make([]Tenant, 0, len(rows))
	for i := range rows {
		tenants = append(tenants, tenantFromRow(&rows[i]))
	}
	return tenants, nil
}

// ListMembers returns the tenant's members ordered by email.
func (s *Store) ListMembers(ctx context.Context, slug string) ([]Member, error) {
	members := []Member{}
	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}

		var views []memberView
		if err := membersOf(tx, tenant).Order("users.email").Scan(&views).Error; err != nil {
			return fmt.Errorf("list members of tenant %q: %w", slug, err)
		}
		for _, view := range views {
			members = append(members, view.member())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return members, nil
}

// GetMember returns one member of the tenant.
func (s *Store) GetMember(ctx context.Context, slug, userID string) (Member, error) {
	var member Member
	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		member, err = findMember(tx, tenant, userID)
		return err
	})
	return member, err
}

func findMember(tx *gorm.DB, tenant *tenantRow, userID string) (Member, error) {
	var views []memberView
	if err := membersOf(tx, tenant).Where("users.public_id = ?", userID).Limit(1).Scan(&views).Error; err != nil {
		return Member{}, fmt.Errorf("read member %q of tenant %q: %w", userID, tenant.Slug, err)
	}
	if len(views) == 0 {
		return Member{}, &NotFoundError{Resource: "member", Name: userID}
	}
	return views[0].member(), nil
}

// AddMember gives the user with the email a role in the tenant. actor is
// the role of the caller (RoleOwner for the operator): only an owner may
// grant the owner role.
func (s *Store) AddMember(ctx context.Context, slug, email string, role, actor accounts.Role) (Member, error) {
	if err := checkGrant(role, actor); err != nil {
		return Member{}, err
	}

	var member Member
	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tenant, err := lockTenant(tx, slug)
		if err != nil {
			return err
		}

		user, err := findUser(tx, "email", email)
		if isNotFound(err) {
			return fieldError("email", "no account uses %q: ask the person to sign up with POST /api/v1/signup first", email)
		}
		if err != nil {
			return err
		}

		if err := insertMember(tx, tenant, user, role); err != nil {
			return err
		}
		member, err = findMember(tx, tenant, user.PublicID)
		return err
	})
	return member, err
}

// UpdateMember changes a member's role. Only an owner may change an owner's
// role or grant the owner role, and the last owner cannot be demoted.
func (s *Store) UpdateMember(ctx context.Context, slug, userID string, role, actor accounts.Role) (Member, error) {
	if err := checkGrant(role, actor); err != nil {
		return Member{}, err
	}

	var member Member
	err := s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tenant, current, err := lockMember(tx, slug, userID, actor)
		if err != nil {
			return err
		}
		if current.Role == accounts.RoleOwner && role != accounts.RoleOwner {
			if err := keepAnOwner(tx, tenant, "demote"); err != nil {
				return err
			}
		}

		err = tx.Model(&membershipRow{}).
			Where("tenant_id = ? AND user_id = (SELECT id FROM users WHERE public_id = ?)", tenant.ID, userID).
			Updates(map[string]any{"role": string(role), "updated_at": tx.NowFunc()}).Error
		if err != nil {
			return fmt.Errorf("change role of %q in tenant %q: %w", userID, slug, err)
		}
		member, err = findMember(tx, tenant, userID)
		return err
	})
	return member, err
}

// RemoveMember ends a membership. Only an owner may remove an owner, and
// the last owner cannot be removed.
func (s *Store) RemoveMember(ctx context.Context, slug, userID string, actor accounts.Role) error {
	return s.writer.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tenant, current, err := lockMember(tx, slug, userID, actor)
		if err != nil {
			return err
		}
		if current.Role == accounts.RoleOwner {
			if err := keepAnOwner(tx, tenant, "remove"); err != nil {
				return err
			}
		}

		err = tx.Where("tenant_id = ? AND user_id = (SELECT id FROM users WHERE public_id = ?)", tenant.ID, userID).
			Delete(&membershipRow{}).Error
		if err != nil {
			return fmt.Errorf("remove %q from tenant %q: %w", userID, slug, err)
		}
		return nil
	})
}

// lockMember locks the tenant, so that concurrent member changes take turns,
// and returns the member. It rejects a change of an owner by a non-owner.
func lockMember(tx *gorm.DB, slug, userID string, actor accounts.Role) (*tenantRow, Member, error) {
	tenant, err := lockTenant(tx, slug)
	if err != nil {
		return nil, Member{}, err
	}
	current, err := findMember(tx, tenant, userID)
	if err != nil {
		return nil, Member{}, err
	}
	if current.Role == accounts.RoleOwner && actor != accounts.RoleOwner {
		return nil, Member{}, forbiddenError("%q is an owner of tenant %q: only an owner can change or remove an owner", current.Email, slug)
	}
	return tenant, current, nil
}

// keepAnOwner rejects the change when the tenant has only one owner. The
// action is "demote" or "remove".
func keepAnOwner(tx *gorm.DB, tenant *tenantRow, action string) error {
	var owners int64
	err := tx.Model(&membershipRow{}).Where("tenant_id = ? AND role = ?", tenant.ID, string(accounts.RoleOwner)).Count(&owners).Error
	if err != nil {
		return fmt.Errorf("count owners of tenant %q: %w", tenant.Slug, err)
	}
	if owners > 1 {
		return nil
	}

	// One literal format per action, so each has its own translation.
	if action == "demote" {
		return conflict("cannot demote the last owner of tenant %q: make another member owner first", tenant.Slug)
	}
	return conflict("cannot remove the last owner of tenant %q: make another member owner first", tenant.Slug)
}

// checkGrant rejects an unknown role, and the owner role from a non-owner.
func checkGrant(role, actor accounts.Role) error {
	if issue := accounts.CheckRole(role); issue != nil {
		return issue
	}
	if role == accounts.RoleOwner && actor != accounts.RoleOwner {
		return forbiddenError("only an owner can grant the owner role: ask an owner, or choose admin, developer or viewer")
	}
	return nil
}
