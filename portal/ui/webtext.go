package ui

// webContent holds every string of the sign-in and propagation pages in
// one language.
type webContent struct {
	Lang        string
	SwitchLang  string
	SwitchLabel string
	Product     string

	LoginTitle      string
	UserHeading     string
	EmailLabel      string
	PasswordLabel   string
	SignIn          string
	OperatorHeading string
	OperatorHint    string
	TokenLabel      string
	SignInOperator  string
	WrongPassword   string
	WrongToken      string
	// TooManyAttempts takes the seconds to wait.
	TooManyAttempts string
	CSRFRejected    string
	NoAccount       string
	SignUp          string
	Tenants         string

	PropagationTitle string
	SignedInAs       string
	Operator         string
	SignOut          string
	EdgesHeading     string
	FeedHead         string
	NoEdges          string
	Node             string
	Region           string
	LastContact      string
	Lag              string
	Healthy          string
	Yes              string
	No               string
	// SecondsAgo takes a number of seconds.
	SecondsAgo     string
	TenantsHeading string
	NoTenants      string
	NoChanges      string
	LatestRevision string
	ChangedAt      string
	Serving        string
	Ready          string
	Behind         string
	Revision       string
	State          string
	// States maps api.StateServing, StateReady and StateBehind to words.
	States map[string]string
}

var webText = map[string]webContent{
	English: {
		Lang:        English,
		SwitchLang:  SimplifiedChinese,
		SwitchLabel: "简体中文",
		Product:     "Portcullis portal",

		LoginTitle:      "Sign in",
		UserHeading:     "Sign in with your account",
		EmailLabel:      "Email",
		PasswordLabel:   "Password",
		SignIn:          "Sign in",
		OperatorHeading: "Operator",
		OperatorHint:    "The operator signs in with the operator token. The browser keeps a session id, never the token.",
		TokenLabel:      "Operator token",
		SignInOperator:  "Sign in as operator",
		WrongPassword:   "Wrong email or password.",
		WrongToken:      "Wrong operator token.",
		TooManyAttempts: "Too many sign-in attempts. Wait %d seconds and try again.",
		CSRFRejected:    "Forbidden: the form's CSRF token is missing or invalid. Reload the page and send the form again.",
		NoAccount:       "No account yet?",
		SignUp:          "Sign up",
		Tenants:         "Tenants",

		PropagationTitle: "Propagation to the edges",
		SignedInAs:       "Signed in as",
		Operator:         "operator",
		SignOut:          "Sign out",
		EdgesHeading:     "Edges",
		FeedHead:         "Feed head",
		NoEdges:          "No edge has sent a heartbeat yet.",
		Node:             "Node",
		Region:           "Region",
		LastContact:      "Last contact",
		Lag:              "Lag (changes)",
		Healthy:          "Healthy",
		Yes:              "yes",
		No:               "no",
		SecondsAgo:       "%d s ago",
		TenantsHeading:   "Tenants",
		NoTenants:        "You are not a member of any tenant.",
		NoChanges:        "No changes yet.",
		LatestRevision:   "Latest revision",
		ChangedAt:        "changed at",
		Serving:          "Serving",
		Ready:            "Ready",
		Behind:           "Behind",
		Revision:         "Revision",
		State:            "State",
		States:           map[string]string{"serving": "serving", "ready": "ready", "behind": "behind"},
	},
	SimplifiedChinese: {
		Lang:        SimplifiedChinese,
		SwitchLang:  English,
		SwitchLabel: "English",
		Product:     "Portcullis 门户",

		LoginTitle:      "登录",
		UserHeading:     "使用账号登录",
		EmailLabel:      "电子邮箱",
		PasswordLabel:   "密码",
		SignIn:          "登录",
		OperatorHeading: "运维人员",
		OperatorHint:    "运维人员使用运维令牌登录。浏览器只保存会话 ID，从不保存令牌。",
		TokenLabel:      "运维令牌",
		SignInOperator:  "以运维人员身份登录",
		WrongPassword:   "电子邮箱或密码错误。",
		WrongToken:      "运维令牌错误。",
		TooManyAttempts: "登录尝试次数过多。请等待 %d 秒后重试。",
		CSRFRejected:    "禁止访问：表单的 CSRF 令牌缺失或无效。请刷新页面后重新提交表单。",
		NoAccount:       "还没有账号？",
		SignUp:          "注册",
		Tenants:         "租户",

		PropagationTitle: "配置向边缘节点的传播",
		SignedInAs:       "当前登录",
		Operator:         "运维人员",
		SignOut:          "退出登录",
		EdgesHeading:     "边缘节点",
		FeedHead:         "变更流最新位置",
		NoEdges:          "还没有边缘节点发送过心跳。",
		Node:             "节点",
		Region:           "区域",
		LastContact:      "最近联系",
		Lag:              "延迟（变更数）",
		Healthy:          "健康",
		Yes:              "是",
		No:               "否",
		SecondsAgo:       "%d 秒前",
		TenantsHeading:   "租户",
		NoTenants:        "你还不是任何租户的成员。",
		NoChanges:        "还没有变更。",
		LatestRevision:   "最新修订号",
		ChangedAt:        "变更时间",
		Serving:          "已在服务",
		Ready:            "就绪",
		Behind:           "落后",
		Revision:         "修订号",
		State:            "状态",
		States:           map[string]string{"serving": "已在服务", "ready": "就绪", "behind": "落后"},
	},
}
