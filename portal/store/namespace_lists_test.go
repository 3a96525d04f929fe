package store

import (
	"context"
	"fmt"
	"testing"
)

func TestListUserNamespacesAndPlugins(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			ann, err := s.CreateUser(ctx, NewUser{Email: "ann@example.com", Name: "Ann", PasswordHash: "unused"})
			if err != nil {
				t.Fatal(err)
			}
			bob, err := s.CreateUser(ctx, NewUser{Email: "bob@example.com", Name: "Bob", PasswordHash: "unused"})
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range []struct{ owner, name string }{{ann.ID, "zeta"}, {ann.ID, "alpha"}, {bob.ID, "bobs"}} {
				if _, err := s.CreateNamespace(ctx, step.owner, step.name); err != nil {
					t.Fatalf("CreateNamespace(%q) error = %v", step.name, err)
				}
			}
			if _, err := s.AddNamespaceMember(ctx, Publisher{UserID: bob.ID}, "bobs", "ann@example.com"); err != nil {
				t.Fatalf("AddNamespaceMember error = %v", err)
			}

			namespaces, err := s.ListUserNamespaces(ctx, ann.ID)
			if err != nil {
				t.Fatalf("ListUserNamespaces(ann) error = %v", err)
			}
			var names []string
			for _, namespace := range namespaces {
				names = append(names, namespace.Name)
			}
			if got := fmt.Sprint(names); got != "[alpha bobs zeta]" {
				t.Errorf("namespaces of ann = %s, want [alpha bobs zeta]", got)
			}
			if len(namespaces) == 3 && (namespaces[1].Owner != bob.ID || len(namespaces[1].Members) != 2) {
				t.Errorf("namespace bobs = %+v, want owner %s and two members", namespaces[1], bob.ID)
			}
			if others, err := s.ListUserNamespaces(ctx, "usr_nobody"); err != nil || len(others) != 0 {
				t.Errorf("ListUserNamespaces(unknown user) = %v, %v; want an empty list", others, err)
			}

			publisher := &Publisher{UserID: ann.ID}
			for _, version := range []struct{ name, version string }{{"alpha/b-plugin", "1.0.0"}, {"alpha/a-plugin", "0.1.0"}, {"alpha/b-plugin", "1.1.0"}, {"zeta/other", "1.0.0"}} {
				_, err := s.PublishPlugin(ctx, NewPluginVersion{Name: version.name, Version: version.version, Source: "// " + version.name, By: publisher})
				if err != nil {
					t.Fatalf("PublishPlugin(%s %s) error = %v", version.name, version.version, err)
				}
			}

			plugins, err := s.ListNamespacePlugins(ctx, "alpha")
			if err != nil {
				t.Fatalf("ListNamespacePlugins(alpha) error = %v", err)
			}
			if got := fmt.Sprint(plugins); got != "[{alpha/a-plugin [0.1.0]} {alpha/b-plugin [1.0.0 1.1.0]}]" {
				t.Errorf("plugins of alpha = %s, want a-plugin 0.1.0 and b-plugin 1.0.0, 1.1.0", got)
			}
			if empty, err := s.ListNamespacePlugins(ctx, "bobs"); err != nil || empty == nil || len(empty) != 0 {
				t.Errorf("ListNamespacePlugins(bobs) = %#v, %v; want an empty list", empty, err)
			}
		})
	}
}
