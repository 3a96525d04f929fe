// Package declarative makes a tenant's config match a document that lists
// all of its upstreams, routes, consumers and bindings. It plans the
// creates, updates and deletes, then applies them in one store batch. Edges
// so see the old config or the new one and nothing in between.
package declarative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// Document is a tenant's whole declared config. Consumers' credentials are
// not part of it: their secrets are never exported, so they are managed
// through the credentials API only.
type Document struct {
	// Tenant is the slug. Apply refuses a document of another tenant.
	Tenant    string            `json:"tenant"`
	Revision  int64             `json:"revision,omitempty"`
	Upstreams []config.Upstream `json:"upstreams"`
	Routes    []config.Route    `json:"routes"`
	Consumers []config.Consumer `json:"consumers"`
	Bindings  []config.Binding  `json:"bindings"`
}

// Export reads the tenant's current config as a Document. Revision is the
// revision that the lists were read at, when no write raced the reads. A
// binding that follows the tenant's install of its plugin has no version,
// so that applying the export keeps it following.
func Export(ctx context.Context, s *store.Store, slug string) (*Document, error) {
	tenant, err := s.GetTenant(ctx, slug)
	if err != nil {
		return nil, err
	}

	doc := &Document{Tenant: slug, Revision: tenant.Revision}
	if doc.Upstreams, err = s.ListUpstreams(ctx, slug); err != nil {
		return nil, err
	}
	if doc.Routes, err = s.ListRoutes(ctx, slug); err != nil {
		return nil, err
	}
	if doc.Consumers, _, err = s.ListConsumers(ctx, slug, store.Page{}); err != nil {
		return nil, err
	}
	if doc.Bindings, err = s.ListDeclaredBindings(ctx, slug); err != nil {
		return nil, err
	}
	return doc, nil
}

// Step is one write of a plan.
type Step struct {
	// Action is "create", "update" or "delete".
	Action string `json:"action"`
	// Resource is "upstream/NAME", "route/NAME", "consumer/NAME" or
	// "binding/ID" ("binding/new" for a binding to create).
	Resource string          `json:"resource"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`

	run func(ctx context.Context, s *store.Store, slug string) error
}

// Result is the outcome of Apply: the steps it took or, for a dry run, the
// steps it would take.
type Result struct {
	DryRun bool   `json:"dry_run"`
	Steps  []Step `json:"steps"`
	// Revision is the tenant's revision after the apply, or the current
	// one for a dry run or a plan without steps.
	Revision int64 `json:"revision"`
}

// Options change how Apply works.
type Options struct {
	// DryRun plans without writing.
	DryRun bool
	// AllowTrusted lets bindings move to the trusted tier; only the
	// operator may.
	AllowTrusted bool
}

// maxAttempts bounds how often Apply plans again after a concurrent write.
const maxAttempts = 3

// Apply makes the tenant's config match desired. It plans against the
// current config and runs the plan in one batch. When another write lands
// between the plan and the batch, it plans again, up to maxAttempts times.
// A dry run runs the plan in a batch that it rolls back, so it fails
// exactly where the apply would, and writes nothing.
func Apply(ctx context.Context, s *store.Store, slug string, desired *Document, opts Options) (*Result, error) {
	dryRun := opts.DryRun
	if desired.Tenant != "" && desired.Tenant != slug {
		return nil, config.Invalid("tenant", "the document is for tenant %q, not %q: apply it to its own tenant or change its tenant field", desired.Tenant, slug)
	}
	if err := desired.validate(); err != nil {
		return nil, err
	}

	// A binding whose plugin version has vectors marked binding_config
	// stops the batch until they passed with its config. They run between
	// attempts, outside the transaction, and do not count as attempts.
	checked := store.NewCheckedBindings()
	ctx = store.WithCheckedBindings(ctx, checked)

	for attempt := 1; ; attempt++ {
		current, err := Export(ctx, s, slug)
		if err != nil {
			return nil, err
		}
		steps, err := plan(current, desired, opts.AllowTrusted)
		if err != nil {
			return nil, err
		}

		result := &Result{DryRun: dryRun, Steps: steps, Revision: current.Revision}
		if len(steps) == 0 {
			return result, nil
		}

		revision, err := s.Batch(ctx, slug, current.Revision, "config/apply", func(ctx context.Context) error {
			if err := runSteps(ctx, s, slug, steps); err != nil {
				return err
			}
			if dryRun {
				return errDryRun
			}
			return nil
		})
		if dryRun && errors.Is(err, errDryRun) {
			return result, nil
		}
		if err == nil {
			result.Revision = revision
			return result, nil
		}
		if ran, vectorErr := s.RunPendingVectors(ctx, err, checked); ran {
			if path := stepPath(err); vectorErr != nil && path != "" {
				return nil, prefixField(path, vectorErr)
			}
			if vectorErr != nil {
				return nil, vectorErr
			}
			attempt--
			continue
		}
		if !isRevisionMoved(err) || attempt == maxAttempts {
			return nil, err
		}
	}
}

// errDryRun rolls back the batch of a dry run once every step succeeded.
var errDryRun = errors.New("dry run: roll back")

func runSteps(ctx context.Context, s *store.Store, slug string, steps []Step) error {
	for _, step := range steps {
		if err := step.run(ctx, s, slug); err != nil {
			return fmt.Errorf("%s %s: %w", step.Action, step.Resource, err)
		}
	}
	return nil
}
