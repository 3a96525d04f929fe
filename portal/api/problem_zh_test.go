package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

func TestPrefersChinese(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"zh-CN", true},
		{"zh-TW,en;q=0.5", true},
		{"en-US,zh;q=0.9", false},
		{"en;q=0.3, zh;q=0.8", true},
		{"zh;q=0, en;q=0.1", false},
		{"fr, zh;q=0.5", true},
		{"*", false},
	}
	for _, tt := range tests {
		if got := PrefersChinese(tt.header); got != tt.want {
			t.Errorf("PrefersChinese(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestProblemOfInChinese(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantTitle  string
		wantDetail string
	}{
		{"not found", &store.NotFoundError{Resource: "route", Name: "main"}, "未找到", `未找到路由 "main"`},
		{"fixed detail", unauthorized("missing bearer token: send the header Authorization: Bearer <token>"), "未认证", "缺少 Bearer 令牌"},
		{"one field", &config.FieldError{Field: "targets[0].url", Message: "url is missing"}, "字段无效", "字段 targets[0].url 无效：url is missing"},
		{"two fields", errors.Join(&config.FieldError{Field: "config.count", Message: "too small"}, &config.FieldError{Field: "config.mode", Message: "unknown"}), "字段无效", "2 个字段无效，第一个是字段 config.count：too small"},
		{"role frame", forbidden(fmt.Sprintf("your role in tenant %q is %s, and %s %s needs %s or above: ask an owner or admin of the tenant", "shop", "viewer", "POST", "/api/v1/tenants/shop/routes", "developer")), "禁止访问", `你在租户 "shop" 中的角色是查看者，而 POST /api/v1/tenants/shop/routes 需要开发者或更高的角色`},
		{"internal", errors.New("disk on fire"), "服务器内部错误", "门户处理请求失败"},
		{"name taken", &store.ConflictError{Message: `route "main" already exists in tenant "shop": choose another name or update it with PUT`}, "冲突", `租户 "shop" 中已存在路由 "main"`},
		{"in use", &store.ConflictError{Message: `upstream "backend" is in use: delete these routes or point them at another upstream first`, Dependents: []string{`route "main"`}}, "冲突", `上游 "backend" 正在使用中：请先删除以下路由，或把它们改到其他上游：route "main"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problem := ProblemOf(tt.err, true)
			if problem.Title != tt.wantTitle {
				t.Errorf("title = %q, want %q", problem.Title, tt.wantTitle)
			}
			if !strings.Contains(problem.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", problem.Detail, tt.wantDetail)
			}
			english := ProblemOf(tt.err, false)
			if english.Status != problem.Status || english.Type != problem.Type {
				t.Errorf("Chinese problem %d %s differs from the English %d %s in status or type", problem.Status, problem.Type, english.Status, english.Type)
			}
		})
	}
}

func TestChineseTitlesCoverFixedTitles(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusRequestTimeout} {
		problem := translateProblem(*fiberProblem(&fiber.Error{Code: status}))
		if _, english := chineseTitles[problem.Title]; english || problem.Title == "" {
			t.Errorf("status %d: title %q is not translated", status, problem.Title)
		}
	}
}
