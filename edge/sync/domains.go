package sync

import (
	"context"
	"strings"
	"time"

	"portcullis.dev/edge/tlsconf"
)

// domainRetryWait is the wait before a failed domain index fetch is tried
// again.
const domainRetryWait = time.Second

// domainRefresher keeps a tlsconf.Index equal to the portal's domain
// index. It fetches the index on request, and pending requests merge, so a
// burst of domain changes costs one or two fetches.
type domainRefresher struct {
	client *Client
	index  *tlsconf.Index
	due    chan struct{}
}

func newDomainRefresher(client *Client, index *tlsconf.Index) *domainRefresher {
	if index == nil {
		return nil
	}
	refresher := &domainRefresher{client: client, index: index, due: make(chan struct{}, 1)}
	refresher.request()
	return refresher
}

// request schedules a fetch without waiting for it. A nil refresher does
// nothing.
func (d *domainRefresher) request() {
	if d == nil {
		return
	}
	select {
	case d.due <- struct{}{}:
	default:
	}
}

// refreshDomains fetches the index for each request, until ctx ends. A failed
// fetch is tried again after domainRetryWait.
func (a *Agent) refreshDomains(ctx context.Context) {
	d := a.domains
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.due:
		}

		domains, err := d.client.Domains(ctx)
		if err == nil {
			d.index.Replace(domains)
			failures = 0
			a.opts.Logger.Debug("domain index refreshed", "edge", a.opts.NodeID, "domains", len(domains))
			continue
		}
		if ctx.Err() != nil {
			return
		}

		failures++
		if failures == 1 || failures%30 == 0 {
			a.opts.Logger.Warn("fetching the domain index failed; retrying", "edge", a.opts.NodeID, "failures", failures, "error", err)
		}
		sleep(ctx, domainRetryWait)
		d.request()
	}
}

// changesDomains reports whether a change event can change the domain
// index: a change of a domain, or a deleted tenant, whose domains go with
// it.
func changesDomains(event Event) bool {
	return strings.HasPrefix(event.Resource, "domain/") ||
		(strings.HasPrefix(event.Resource, "tenant/") && event.Kind == "delete")
}
