package ui

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"portcullis.dev/portal/api"
	"portcullis.dev/portal/store"
)

func TestPropagationPageShowsRejection(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	latest, err := site.store.LatestChange(ctx, "acme")
	if err != nil {
		t.Fatalf("LatestChange: %v", err)
	}
	_, token, err := site.store.CreateEdgeToken(ctx)
	if err != nil {
		t.Fatalf("CreateEdgeToken: %v", err)
	}
	tokenID, err := site.store.EdgeTokenID(ctx, token)
	if err != nil {
		t.Fatalf("EdgeTokenID: %v", err)
	}

	reason := `pre-flight of plugin "shaper" version "1.0.0" for binding "b1": test vector "greets" failed`
	report := store.EdgeReport{
		NodeID: "a-1", Region: "a", Position: latest.Position, Healthy: true,
		Revisions: map[string]int64{"acme": latest.Revision - 1},
		Rejected:  map[string]store.EdgeRejection{"acme": {Revision: latest.Revision, Reason: reason}},
	}
	if err := site.store.RecordEdge(ctx, tokenID, report); err != nil {
		t.Fatalf("RecordEdge: %v", err)
	}

	for lang, state := range map[string]string{English: "rejected", SimplifiedChinese: "已拒绝"} {
		status, page := site.get("/ui/propagation?lang="+lang, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /ui/propagation in %s: status %d, want 200", lang, status)
		}
		if !strings.Contains(page, "<td>"+state+"</td>") {
			t.Errorf("propagation page in %s lacks the state %q", lang, state)
		}
		if !strings.Contains(page, "test vector &#34;greets&#34; failed") {
			t.Errorf("propagation page in %s lacks the reason %q", lang, reason)
		}
	}
}

func TestEdgeRowShowsMissingHeartbeat(t *testing.T) {
	stale := api.EdgeView{
		EdgeNode:     store.EdgeNode{EdgeReport: store.EdgeReport{NodeID: "edge-B", Region: "a", Healthy: false, Detail: "no heartbeat for 26 s, above the limit of 10 s"}},
		SinceContact: 26.1,
		Stale:        true,
	}
	fresh := api.EdgeView{
		EdgeNode:     store.EdgeNode{EdgeReport: store.EdgeReport{NodeID: "edge-A", Region: "a", Healthy: true, Detail: "portal reachable"}},
		SinceContact: 1.2,
	}

	cases := []struct {
		lang        string
		wantHealthy string
		wantDetail  string
	}{
		{English, "no", "no heartbeat for 26 s"},
		{SimplifiedChinese, "否", "已有 26 秒没有心跳"},
	}
	for _, c := range cases {
		t.Run(c.lang, func(t *testing.T) {
			row := newEdgeRow(stale, webText[c.lang])
			if row.Healthy != c.wantHealthy {
				t.Errorf("stale edge healthy = %q, want %q", row.Healthy, c.wantHealthy)
			}
			if row.Detail != c.wantDetail {
				t.Errorf("stale edge detail = %q, want %q", row.Detail, c.wantDetail)
			}

			row = newEdgeRow(fresh, webText[c.lang])
			if row.Healthy != webText[c.lang].Yes {
				t.Errorf("fresh edge healthy = %q, want %q", row.Healthy, webText[c.lang].Yes)
			}
			if row.Detail != "portal reachable" {
				t.Errorf("fresh edge detail = %q, want the edge's own detail", row.Detail)
			}
		})
	}
}

func TestEdgeRowShowsNodeIDConflict(t *testing.T) {
	twin := api.EdgeView{
		EdgeNode: store.EdgeNode{
			EdgeReport:     store.EdgeReport{NodeID: "edge-T", Region: "a", Detail: `two edge processes report node id "edge-T": give each edge its own --node-id`},
			NodeIDConflict: true,
		},
		SinceContact: 0.5,
	}
	cases := []struct {
		lang string
		want string
	}{
		{English, "two edge processes report this node id: give each edge its own --node-id"},
		{SimplifiedChinese, "有两个边缘进程使用同一节点 ID：请用 --node-id 为每个边缘指定不同的 ID"},
	}
	for _, c := range cases {
		row := newEdgeRow(twin, webText[c.lang])
		if row.Detail != c.want || row.Healthy != webText[c.lang].No {
			t.Errorf("edge in conflict in %s: healthy %q, detail %q; want %q, %q", c.lang, row.Healthy, row.Detail, webText[c.lang].No, c.want)
		}
	}
}

func TestPropagationPageShowsEdgeDetail(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	token, _, err := site.store.CreateEdgeToken(ctx)
	if err != nil {
		t.Fatalf("CreateEdgeToken: %v", err)
	}
	report := store.EdgeReport{NodeID: "edge-A", Region: "a", Revisions: map[string]int64{}, Healthy: false, Detail: "portal unreachable"}
	if err := site.store.RecordEdge(ctx, token.ID, report); err != nil {
		t.Fatalf("RecordEdge: %v", err)
	}

	for lang, header := range map[string]string{English: "<th>Detail</th>", SimplifiedChinese: "<th>详情</th>"} {
		status, page := site.get("/ui/propagation?lang="+lang, nil)
		if status != http.StatusOK {
			t.Fatalf("GET /ui/propagation in %s: status %d, want 200", lang, status)
		}
		if !strings.Contains(page, header) {
			t.Errorf("propagation page in %s lacks the header %s", lang, header)
		}
		if !strings.Contains(page, "<td>portal unreachable</td>") {
			t.Errorf("propagation page in %s lacks the edge's detail", lang)
		}
	}
}

func TestEdgeRowTranslatesFeedDetail(t *testing.T) {
	cases := []struct {
		lang   string
		detail string
		want   string
	}{
		{English, "change feed connecting", "change feed connecting"},
		{SimplifiedChinese, "change feed connecting", "正在连接变更流"},
		{SimplifiedChinese, "change feed disconnected", "变更流已断开，正在重连"},
		{SimplifiedChinese, "portal reachable", "portal reachable"},
	}
	for _, c := range cases {
		edge := api.EdgeView{EdgeNode: store.EdgeNode{EdgeReport: store.EdgeReport{NodeID: "edge-F", Region: "a", Healthy: true, Detail: c.detail}}, SinceContact: 0.5}
		if got := newEdgeRow(edge, webText[c.lang]).Detail; got != c.want {
			t.Errorf("detail %q in %s = %q, want %q", c.detail, c.lang, got, c.want)
		}
	}
}
