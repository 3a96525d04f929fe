package allinone

import (
	"context"
	"time"

	"portcullis.dev/edge/cache"
	"portcullis.dev/edge/sync"
	"portcullis.dev/portal/store"
)

// The edge of an all-in-one process appears in the portal's edge list and
// propagation view as node localNodeID in region localRegion.
const (
	localNodeID = store.AllInOneNodeID
	localRegion = "local"
)

// reportLocalEdge records the state of the process's own edge in the
// portal's store at once and then every sync.DefaultHeartbeat until ctx
// ends, as a separate edge's heartbeat does. The propagation view then
// shows whether the edge serves each change or rejected it. The edge reads
// the store directly, so it has applied every change up to the feed head.
func (s *Server) reportLocalEdge(ctx context.Context) {
	pluginErrors := sync.PluginErrorCounts(s.edge.MetricsRegistry())
	ticker := time.NewTicker(sync.DefaultHeartbeat)
	defer ticker.Stop()

	for {
		s.recordLocalEdge(ctx, pluginErrors)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (s *Server) recordLocalEdge(ctx context.Context, pluginErrors func() map[string]int64) {
	st := s.portal.Store()
	head, err := st.FeedHead(ctx)
	if err == nil {
		err = st.RecordEdge(ctx, 0, store.EdgeReport{
			NodeID:       localNodeID,
			Region:       localRegion,
			Position:     head,
			Revisions:    s.edge.HeldRevisions(),
			Healthy:      true,
			PluginErrors: pluginErrors(),
			Rejected:     localRejections(s.edge.RejectedRevisions()),
		})
	}
	if err != nil && ctx.Err() == nil {
		s.cfg.Logger.Warn("record the state of the all-in-one edge", "node_id", localNodeID, "error", err)
	}
}

// localRejections converts the edge's rejected revisions for the store,
// nil when there are none.
func localRejections(rejected map[string]cache.Rejection) map[string]store.EdgeRejection {
	if len(rejected) == 0 {
		return nil
	}
	result := make(map[string]store.EdgeRejection, len(rejected))
	for tenant, rejection := range rejected {
		result[tenant] = store.EdgeRejection{Revision: rejection.Revision, Reason: rejection.Reason}
	}
	return result
}
