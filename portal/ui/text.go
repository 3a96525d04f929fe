package ui

import "html/template"

// pageContent holds the text of the page in one language.
type pageContent struct {
	Lang        string
	Title       string
	Intro       string
	Features    []string
	SignIn      string
	SignUp      string
	APIHeading  string
	APIText     template.HTML
	DocsText    template.HTML
	HealthLabel string
	// Colon is the language's colon with its spacing.
	Colon       string
	SwitchLang  string
	SwitchLabel string
}

var pageText = map[string]pageContent{
	English: {
		Lang:  English,
		Title: "Portcullis portal",
		Intro: "Portcullis is a multi-tenant API gateway. Each tenant routes its traffic to its own upstreams, " +
			"and plugins written in Risor change requests and responses on the way.",
		Features: []string{
			"Tenants, upstreams and routes are managed through a JSON REST API.",
			"Plugins are published as immutable versions and bound to a tenant's routes with a config that their JSON Schema checks.",
			"Every change raises the tenant's revision, and edges load the new config as a sealed bundle.",
		},
		SignIn:      "Sign in to the console",
		SignUp:      "Create an account",
		APIHeading:  "API",
		APIText:     "The REST API is served under <code>/api/v1</code> and takes a bearer token: a personal token from <code>POST /api/v1/login</code> or <code>POST /api/v1/tokens</code>, or the operator's token.",
		DocsText:    "The reference for every endpoint, with curl examples, is <code>docs/api.md</code> in the Portcullis repository.",
		HealthLabel: "Health check",
		Colon:       ": ",
		SwitchLang:  SimplifiedChinese,
		SwitchLabel: "简体中文",
	},
	SimplifiedChinese: {
		Lang:  SimplifiedChinese,
		Title: "Portcullis 门户",
		Intro: "Portcullis 是一个多租户 API 网关。每个租户把流量路由到自己的上游服务，" +
			"用 Risor 编写的插件在途中修改请求和响应。",
		Features: []string{
			"租户、上游和路由通过 JSON REST API 管理。",
			"插件以不可变的版本发布，并带着经其 JSON Schema 校验的配置绑定到租户的路由上。",
			"每次变更都会使租户的修订号加一，边缘节点随后加载带内容哈希的新配置包。",
		},
		SignIn:      "登录控制台",
		SignUp:      "创建账号",
		APIHeading:  "API",
		APIText:     "REST API 位于 <code>/api/v1</code> 之下，需要 Bearer 令牌：由 <code>POST /api/v1/login</code> 或 <code>POST /api/v1/tokens</code> 获得的个人令牌，或运维人员的令牌。",
		DocsText:    "所有端点的参考文档及 curl 示例见 Portcullis 代码仓库中的 <code>docs/api.md</code>。",
		HealthLabel: "健康检查",
		Colon:       "：",
		SwitchLang:  English,
		SwitchLabel: "English",
	},
}
