package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"portcullis.dev/portal/store/migrations"
	"portcullis.dev/tenants/config"
)

type consumerRow struct {
	ID          uint `gorm:"primaryKey"`
	TenantID    uint
	Name        string
	Description string
	// Tags is the JSON array of the consumer's tags.
	Tags      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (consumerRow) TableName() string { return "consumers" }

func findConsumer(tx *gorm.DB, tenant *tenantRow, name string) (*consumerRow, error) {
	var row consumerRow
	result := scoped(tx, tenant).Where("name = ?", name).Limit(1).Find(&row)
	if result.Error != nil {
		return nil, fmt.Errorf("read consumer %q of tenant %q: %w", name, tenant.Slug, result.Error)
	}
	if result.RowsAffected == 0 {
		return nil, &NotFoundError{Resource: "consumer", Name: name}
	}
	return &row, nil
}

func consumerFromRow(row *consumerRow) (config.Consumer, error) {
	consumer := config.Consumer{Name: row.Name, Description: row.Description, Tags: []string{}}
	if err := json.Unmarshal([]byte(row.Tags), &consumer.Tags); err != nil {
		return config.Consumer{}, fmt.Errorf("decode tags of consumer %q: %w", row.Name, err)
	}
	return consumer, nil
}

// normalizeConsumer validates the input and returns it with non-nil tags,
// and the tags as JSON.
func normalizeConsumer(input config.Consumer) (config.Consumer, string, error) {
	if err := input.Validate(); err != nil {
		return config.Consumer{}, "", err
	}
	if input.Tags == nil {
		input.Tags = []string{}
	}

	tags, err := encodeJSON(input.Tags)
	if err != nil {
		return config.Consumer{}, "", err
	}
	return input, tags, nil
}

// CreateConsumer adds a consumer to the tenant.
func (s *Store) CreateConsumer(ctx context.Context, slug string, input config.Consumer) (config.Consumer, error) {
	input, tags, err := normalizeConsumer(input)
	if err != nil {
		return config.Consumer{}, err
	}

	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		_, err := findConsumer(tx, tenant, input.Name)
		if err == nil {
			return change{}, conflict("consumer %q already exists in tenant %q: choose another name or update it with PUT", input.Name, slug)
		}
		if !isNotFound(err) {
			return change{}, err
		}

		row := consumerRow{TenantID: tenant.ID, Name: input.Name, Description: input.Description, Tags: tags}
		if err := tx.Create(&row).Error; err != nil {
			return change{}, fmt.Errorf("create consumer %q of tenant %q: %w", input.Name, slug, err)
		}
		return change{kind: KindCreate, resource: "consumer/" + input.Name}, nil
	})
	if err != nil {
		return config.Consumer{}, err
	}
	return input, nil
}

// ConsumerFilter selects consumers of a list. The zero value selects all.
type ConsumerFilter struct {
	// NameContains keeps the consumers whose name contains it, compared
	// without case.
	NameContains string
	// Tag keeps the consumers that have this exact tag.
	Tag string
}

// ListConsumers returns one page of the tenant's consumers ordered by name,
// and whether more follow.
func (s *Store) ListConsumers(ctx context.Context, slug string, page Page) ([]config.Consumer, bool, error) {
	return s.ListConsumerPage(ctx, slug, page, ConsumerFilter{})
}

// ListConsumerPage returns one page of the tenant's consumers that filter
// selects, ordered by name, and whether more follow.
func (s *Store) ListConsumerPage(ctx context.Context, slug string, page Page, filter ConsumerFilter) ([]config.Consumer, bool, error) {
	consumers := []config.Consumer{}
	more := false

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}

		query := s.filterConsumers(scoped(tx, tenant), filter)
		var rows []consumerRow
		if err := page.apply(query, "name").Find(&rows).Error; err != nil {
			return fmt.Errorf("list consumers of tenant %q: %w", slug, err)
		}
		rows, more = trimPage(rows, page)

		for i := range rows {
			consumer, err := consumerFromRow(&rows[i])
			if err != nil {
				return err
			}
			consumers = append(consumers, consumer)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return consumers, more, nil
}

// filterConsumers adds the conditions of filter to a query of consumers.
// The tags column is a JSON array in text, so each dialect unpacks it with
// its own JSON function.
func (s *Store) filterConsumers(query *gorm.DB, filter ConsumerFilter) *gorm.DB {
	if filter.NameContains != "" {
		query = query.Where("LOWER(name) LIKE ? ESCAPE '!'", containsPattern(strings.ToLower(filter.NameContains)))
	}
	if filter.Tag == "" {
		return query
	}

	if s.dialect == migrations.Postgres {
		return query.Where("EXISTS (SELECT 1 FROM jsonb_array_elements_text(consumers.tags::jsonb) AS tag(value) WHERE tag.value = ?)", filter.Tag)
	}
	return query.Where("EXISTS (SELECT 1 FROM json_each(consumers.tags) WHERE json_each.value = ?)", filter.Tag)
}

// GetConsumer returns one consumer of the tenant.
func (s *Store) GetConsumer(ctx context.Context, slug, name string) (config.Consumer, error) {
	var consumer config.Consumer

	err := s.read(ctx, func(tx *gorm.DB) error {
		tenant, err := findTenant(tx, slug)
		if err != nil {
			return err
		}
		row, err := findConsumer(tx, tenant, name)
		if err != nil {
			return err
		}
		consumer, err = consumerFromRow(row)
		return err
	})
	return consumer, err
}

// UpdateConsumer replaces the description and tags of a consumer. The name
// cannot change: an empty input.Name means the same name.
func (s *Store) UpdateConsumer(ctx context.Context, slug, name string, input config.Consumer) (config.Consumer, error) {
	if input.Name == "" {
		input.Name = name
	}
	if input.Name != name {
		return config.Consumer{}, fieldError("name", "name %q differs from %q in the path: a name cannot change, so create a new consumer instead", input.Name, name)
	}
	input, tags, err := normalizeConsumer(input)
	if err != nil {
		return config.Consumer{}, err
	}

	_, err = s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findConsumer(tx, tenant, name)
		if err != nil {
			return change{}, err
		}
		err = tx.Model(row).Updates(map[string]any{"description": input.Description, "tags": tags}).Error
		if err != nil {
			return change{}, fmt.Errorf("update consumer %q of tenant %q: %w", name, slug, err)
		}
		return change{kind: KindUpdate, resource: "consumer/" + name}, nil
	})
	if err != nil {
		return config.Consumer{}, err
	}
	return input, nil
}

// DeleteConsumer deletes a consumer with all its credentials.
func (s *Store) DeleteConsumer(ctx context.Context, slug, name string) error {
	_, err := s.writeTenant(ctx, slug, func(tx *gorm.DB, tenant *tenantRow) (change, error) {
		row, err := findConsumer(tx, tenant, name)
		if err != nil {
			return change{}, err
		}

		var bindings []string
		err = scoped(tx.Model(&bindingRow{}), tenant).Where("consumer_id = ?", row.ID).Order("id").Pluck("public_id", &bindings).Error
		if err != nil {
			return change{}, fmt.Errorf("find bindings of consumer %q in tenant %q: %w", name, slug, err)
		}
		if len(bindings) > 0 {
			return change{}, conflictWith(quoteAll("binding", bindings), "consumer %q is in use: delete these bindings or move them to another consumer first", name)
		}

		if err := tx.Where("consumer_id = ?", row.ID).Delete(&credentialRow{}).Error; err != nil {
			return change{}, fmt.Errorf("delete credentials of consumer %q in tenant %q: %w", name, slug, err)
		}
		if err := tx.Delete(row).Error; err != nil {
			return change{}, fmt.Errorf("delete consumer %q of tenant %q: %w", name, slug, err)
		}
		return change{kind: KindDelete, resource: "consumer/" + name}, nil
	})
	return err
}
