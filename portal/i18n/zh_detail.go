package i18n

import "golang.org/x/text/message"

// detailFormats translates the formats of the problem details that carry
// no field: conflicts, refused access and request-level errors. A detail
// without values is its own format.
var detailFormats = map[string]string{
	// Request framing.
	"media type %q is not supported: send JSON with Content-Type: application/json": "不支持媒体类型 %q：请以 Content-Type: application/json 发送 JSON",

	// Names that are taken.
	"tenant %q already exists: choose another slug or update it with PUT":                                           "租户 %q 已存在：请换一个标识，或用 PUT 更新它",
	"upstream %q already exists in tenant %q: choose another name or update it with PUT":                            "租户 %[2]q 中已存在上游 %[1]q：请换一个名称，或用 PUT 更新它",
	"route %q already exists in tenant %q: choose another name or update it with PUT":                               "租户 %[2]q 中已存在路由 %[1]q：请换一个名称，或用 PUT 更新它",
	"consumer %q already exists in tenant %q: choose another name or update it with PUT":                            "租户 %[2]q 中已存在消费者 %[1]q：请换一个名称，或用 PUT 更新它",
	"plugin version %q already exists: versions are immutable, so publish a new version":                            "插件版本 %q 已存在：版本不可更改，请发布新版本",
	"plugin %q is already installed in tenant %q: change it with PUT .../installs/%s":                               "插件 %q 已安装在租户 %q 中：请用 PUT .../installs/%s 修改它",
	"an account for %q already exists: log in with POST /api/v1/login instead":                                      "%q 的账号已存在：请改用 POST /api/v1/login 登录",
	"namespace %q already exists: choose another name":                                                              "命名空间 %q 已存在：请换一个名称",
	"namespace %q belongs to the operator: choose another name":                                                     "命名空间 %q 属于运维人员：请换一个名称",
	"this key-auth key is already in use in tenant %q: choose another key, or leave key out to get a generated one": "该 key-auth 密钥已在租户 %q 中使用：请换一个 key，或省略 key 以获得自动生成的密钥",

	// Domains.
	"domain %q already exists in tenant %q":                                                                                   "租户 %[2]q 中已存在域名 %[1]q",
	"tenant %q has %d domains, the limit: delete one before adding %q":                                                        "租户 %q 已有 %d 个域名，达到上限：请先删除一个，再添加 %q",
	"hostname %q is already claimed by another tenant: a hostname belongs to one tenant, so ask its owner to delete it first": "主机名 %q 已被另一个租户占用：一个主机名只属于一个租户，请联系其所有者先删除它",
	"domain %q changed during verification: verify it again":                                                                  "域名 %q 在验证期间发生了变化：请重新验证",

	// Deletes that dependents block. The API appends the dependents.
	"upstream %q is in use: delete these routes or point them at another upstream first":                    "上游 %q 正在使用中：请先删除以下路由，或把它们改到其他上游",
	"route %q is in use: delete these bindings or move them to another route first":                         "路由 %q 正在使用中：请先删除以下绑定，或把它们改到其他路由",
	"consumer %q is in use: delete these bindings or move them to another consumer first":                   "消费者 %q 正在使用中：请先删除以下绑定，或把它们改到其他消费者",
	"plugin version %q is in use: delete these bindings and installs or move them to another version first": "插件版本 %q 正在使用中：请先删除以下绑定和安装，或把它们改到其他版本",
	"bindings follow the install of plugin %q: delete them or give them a version first":                    "有绑定跟随插件 %q 的安装：请先删除它们，或为它们指定版本",
	"install of plugin %q in tenant %q has no previous version to roll back to":                             "租户 %[2]q 中插件 %[1]q 的安装没有可回滚到的上一个版本",

	// Members and owners.
	"%q is already a member of tenant %q: change the role with PATCH instead":                                                              "%q 已是租户 %q 的成员：请改用 PATCH 修改其角色",
	"%q is already a member of namespace %q":                                                                                               "%q 已是命名空间 %q 的成员",
	"cannot demote the last owner of tenant %q: make another member owner first":                                                           "不能降级租户 %q 的最后一位所有者：请先把另一位成员设为所有者",
	"cannot remove the last owner of tenant %q: make another member owner first":                                                           "不能移除租户 %q 的最后一位所有者：请先把另一位成员设为所有者",
	"%q is an owner of tenant %q: only an owner can change or remove an owner":                                                             "%q 是租户 %q 的所有者：只有所有者才能修改或移除所有者",
	"only an owner can grant the owner role: ask an owner, or choose admin, developer or viewer":                                           "只有所有者才能授予所有者角色：请联系所有者，或选择 admin（管理员）、developer（开发者）或 viewer（查看者）",
	"you are not a member of namespace %q: ask one of its members to add you":                                                              "你不是命名空间 %q 的成员：请联系它的一位成员把你加入",
	"namespace %q does not exist: create it with POST /api/v1/namespaces, or publish in a namespace you belong to":                         "命名空间 %q 不存在：请用 POST /api/v1/namespaces 创建它，或在你所属的命名空间中发布",
	"namespace %q belongs to the operator: publish as \"namespace/name\" in a namespace of your own, created with POST /api/v1/namespaces": "命名空间 %q 属于运维人员：请在你自己的命名空间中以 \"namespace/name\" 发布，命名空间可用 POST /api/v1/namespaces 创建",

	// Authentication and roles.
	"missing bearer token: send the header Authorization: Bearer <token>":                                                    "缺少 Bearer 令牌：请发送请求头 Authorization: Bearer <令牌>",
	"missing bearer token: send the header Authorization: Bearer <edge token>":                                               "缺少 Bearer 令牌：请发送请求头 Authorization: Bearer <边缘令牌>",
	"invalid bearer token: send the operator token, or a token from POST /api/v1/login or POST /api/v1/tokens":               "Bearer 令牌无效：请发送运维令牌，或由 POST /api/v1/login 或 POST /api/v1/tokens 获得的令牌",
	"invalid, revoked or expired token: log in again with POST /api/v1/login":                                                "令牌无效、已吊销或已过期：请用 POST /api/v1/login 重新登录",
	"invalid edge token: create one with POST /api/v1/edge-tokens":                                                           "边缘令牌无效：请用 POST /api/v1/edge-tokens 创建一个",
	"wrong email or password: check both, or sign up with POST /api/v1/signup":                                               "电子邮箱或密码错误：请检查两者，或用 POST /api/v1/signup 注册",
	"the operator token belongs to no account: log in as a user with POST /api/v1/login":                                     "运维令牌不属于任何账号：请用 POST /api/v1/login 以用户身份登录",
	"%s %s is for the operator only: ask the operator of this portal":                                                        "%s %s 仅限运维人员：请联系本门户的运维人员",
	"your role in tenant %q is %s, and %s %s needs %s or above: ask an owner or admin of the tenant":                         "你在租户 %q 中的角色是%s，而 %s %s 需要%s或更高的角色：请联系该租户的所有者或管理员",
	"only the operator may mark a plugin version reviewed":                                                                   "只有运维人员可以把插件版本标记为已审核",
	"the operator publishes in its own namespace and owns no other: log in as a user to create a namespace":                  "运维人员在自己的命名空间中发布，不拥有其他命名空间：请以用户身份登录后创建命名空间",
	`tier "trusted" runs a plugin inside the edge process and is for the operator only: leave tier empty or use "sandboxed"`: `tier "trusted" 会在边缘进程内运行插件，仅限运维人员使用：请把 tier 留空或使用 "sandboxed"`,

	// Missing resources and request-level errors.
	"%s %q not found":                                                                                                 "未找到%s %q",
	"no resource at this path":                                                                                        "此路径下没有资源",
	"this path does not accept the request method":                                                                    "此路径不接受该请求方法",
	"the request body exceeds %d bytes: send a smaller body":                                                          "请求体超过 %d 字节：请发送更小的请求体",
	"the request was not received in time":                                                                            "未能及时收到请求",
	"the request headers exceed the server's buffer: send shorter headers":                                            "请求头超出服务器缓冲区：请发送更短的请求头",
	"the request body is empty: send a JSON object":                                                                   "请求体为空：请发送一个 JSON 对象",
	"the request body has data after the JSON object: send exactly one object":                                        "请求体在 JSON 对象之后还有数据：请只发送一个对象",
	"the request body ends before the JSON object is complete":                                                        "请求体在 JSON 对象完整之前就结束了",
	"the portal failed to handle the request: report the request_id to the operator":                                  "门户处理请求失败：请把 request_id 报告给运维人员",
	"the database did not respond to a query: check the portal log":                                                   "数据库没有响应查询：请查看门户日志",
	"no plugin worker was available to run the checks of this request: send it again in %d seconds (see Retry-After)": "没有可用的插件工作进程来运行此请求的检查：请在 %d 秒后重新发送（见 Retry-After）",
	"this portal has no plugin signing key, so it publishes unsigned versions":                                        "本门户没有插件签名密钥，因此发布的是未签名的版本",
}

// Term is an English word of the product, such as a resource kind or a
// role, given as an argument of a detail format. It prints as written,
// and Translate renders it with its Chinese word.
type Term string

// chineseTerms maps the terms that details embed to Chinese words.
var chineseTerms = map[string]string{
	"tenant": "租户", "upstream": "上游", "route": "路由", "binding": "绑定",
	"consumer": "消费者", "credential": "凭据", "plugin": "插件",
	"plugin version": "插件版本", "install": "安装", "member": "成员", "user": "用户",
	"namespace": "命名空间", "domain": "域名", "certificate of domain": "域名证书",
	"token": "令牌", "edge token": "边缘令牌", "edge node": "边缘节点", "operator session": "运维会话",
	"client address": "客户端地址", "email": "电子邮箱",
	"viewer": "查看者", "developer": "开发者", "admin": "管理员", "owner": "所有者",
	"routes": "路由", "bindings": "绑定",
}

// Chinese returns the Chinese word of the term, or the term itself when
// chineseTerms lacks it.
func (t Term) Chinese() string {
	if word, found := chineseTerms[string(t)]; found {
		return word
	}
	return string(t)
}

// LocalizedString returns the Chinese word of the term. Translate calls it
// only to render Simplified Chinese, so it ignores printer.
func (t Term) LocalizedString(*message.Printer) string {
	return t.Chinese()
}
