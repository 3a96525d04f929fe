package store

import (
	"context"
	"fmt"
	"testing"

	"portcullis.dev/tenants/config"
)

func TestListConsumerPageFilter(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			seedTenant(t, s, "acme")
			consumers := []config.Consumer{
				{Name: "alice", Tags: []string{"eu", "prod"}},
				{Name: "bob", Tags: []string{"prod"}},
				{Name: "carol", Tags: []string{"dev"}},
				{Name: "Dave", Tags: []string{"production"}},
				{Name: "erin"},
			}
			for _, consumer := range consumers {
				if _, err := s.CreateConsumer(ctx, "acme", consumer); err != nil {
					t.Fatalf("CreateConsumer(%q) error = %v", consumer.Name, err)
				}
			}

			tests := []struct {
				name   string
				page   Page
				filter ConsumerFilter
				want   string
				more   bool
			}{
				{name: "name contains", filter: ConsumerFilter{NameContains: "o"}, want: "[bob carol]"},
				{name: "name without case", filter: ConsumerFilter{NameContains: "DAV"}, want: "[Dave]"},
				{name: "name percent literal", filter: ConsumerFilter{NameContains: "%"}, want: "[]"},
				{name: "tag", filter: ConsumerFilter{Tag: "prod"}, want: "[alice bob]"},
				{name: "tag second of two", filter: ConsumerFilter{Tag: "eu"}, want: "[alice]"},
				{name: "tag is exact", filter: ConsumerFilter{Tag: "pro"}, want: "[]"},
				{name: "tag keeps case", filter: ConsumerFilter{Tag: "PROD"}, want: "[]"},
				{name: "tag quoted text", filter: ConsumerFilter{Tag: `prod"`}, want: "[]"},
				{name: "name and tag", filter: ConsumerFilter{NameContains: "o", Tag: "prod"}, want: "[bob]"},
				{name: "first filtered page", page: Page{Limit: 1}, filter: ConsumerFilter{Tag: "prod"}, want: "[alice]", more: true},
				{name: "second filtered page", page: Page{After: "alice", Limit: 1}, filter: ConsumerFilter{Tag: "prod"}, want: "[bob]"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					page, more, err := s.ListConsumerPage(ctx, "acme", tt.page, tt.filter)
					if err != nil {
						t.Fatalf("ListConsumerPage error = %v", err)
					}
					names := make([]string, len(page))
					for i, consumer := range page {
						names[i] = consumer.Name
					}
					if got := fmt.Sprint(names); got != tt.want {
						t.Errorf("names = %s, want %s", got, tt.want)
					}
					if more != tt.more {
						t.Errorf("more = %v, want %v", more, tt.more)
					}
				})
			}
		})
	}
}
