package i18n

// formFormats translates the messages that console forms show: JSON syntax
// errors with their position, private keys that do not fit a certificate,
// and the console's wording of messages whose API fix is an API call.
var formFormats = map[string]string{
	// JSON text that does not parse, in a binding config or a JSON input.
	"not valid JSON: unexpected %q at line %d, column %d: check the quotes, commas and brackets up to there":                      "不是有效的 JSON：第 %[2]d 行第 %[3]d 列出现意外的字符 %[1]q：请检查该处及之前的引号、逗号和括号",
	"not valid JSON: the text ends at line %d, column %d before the value is complete: close every open string, array and object": "不是有效的 JSON：文本在第 %d 行第 %d 列就结束了，值还不完整：请闭合所有未闭合的字符串、数组和对象",
	"not valid JSON: more text follows the value at line %d, column %d: keep one JSON value and remove the rest":                  "不是有效的 JSON：第 %d 行第 %d 列在值之后还有其他文本：只保留一个 JSON 值，删除其余部分",

	// Private keys of a domain certificate.
	"private_key_pem is encrypted: remove its passphrase, for example with openssl pkey, and use the unencrypted key":                "private_key_pem 是加密的私钥：请去掉它的密码短语（例如用 openssl pkey），改用未加密的私钥",
	"private_key_pem contains a %q PEM block but no private key: use the key that starts with -----BEGIN PRIVATE KEY-----":           "private_key_pem 包含一个 %q PEM 块，但没有私钥：请使用以 -----BEGIN PRIVATE KEY----- 开头的私钥",
	"private_key_pem contains no PEM private key: use the key that starts with -----BEGIN PRIVATE KEY-----":                          "private_key_pem 不含 PEM 私钥：请使用以 -----BEGIN PRIVATE KEY----- 开头的私钥",
	"private_key_pem does not parse as a PKCS #8, PKCS #1 or SEC 1 private key: export the key again in PEM":                         "private_key_pem 无法解析为 PKCS #8、PKCS #1 或 SEC 1 私钥：请重新以 PEM 格式导出私钥",
	"private_key_pem is an %s key, but the leaf certificate has an %s key: use the private key that the certificate was issued for":  "private_key_pem 是 %s 私钥，而叶证书的密钥是 %s 密钥：请使用与该证书配对的私钥",
	"private_key_pem does not match the public key of the leaf certificate: use the private key that the certificate was issued for": "private_key_pem 与叶证书的公钥不匹配：请使用与该证书配对的私钥",

	// The console's wording of messages whose API fix is an API call.
	"tenant %q already exists: choose another slug, or rename that tenant on its Settings page":                   "租户 %q 已存在：请换一个标识，或在该租户的“设置”页面修改它的名称",
	"upstream %q already exists in tenant %q: choose another name, or press Edit next to it in the upstream list": "租户 %[2]q 中已存在上游 %[1]q：请换一个名称，或在上游列表中点击它旁边的“编辑”",
	"route %q already exists in tenant %q: choose another name, or press Edit next to it in the route list":       "租户 %[2]q 中已存在路由 %[1]q：请换一个名称，或在路由列表中点击它旁边的“编辑”",
	"consumer %q already exists in tenant %q: choose another name, or open it from the consumer list":             "租户 %[2]q 中已存在消费者 %[1]q：请换一个名称，或从消费者列表中打开它",
	"%q is already a member of tenant %q: change the role in the member list instead":                             "%q 已是租户 %q 的成员：请改在成员列表中修改其角色",
	"no account uses %q: ask the person to create an account on the sign-up page first, then add them":            "没有账号使用 %q：请让对方先在注册页面创建账号，再把其添加为成员",
	"role %q is unknown: choose owner, admin, developer or viewer in the role list":                               "未知角色 %q：请在角色列表中选择所有者、管理员、开发者或查看者",
	"only an owner can grant the owner role: ask an owner, or choose admin, developer or viewer in the role list": "只有所有者才能授予所有者角色：请联系所有者，或在角色列表中选择管理员、开发者或查看者",
	"enter a version such as 1.2.3, or a range such as ^1.2":                                                      "请填写版本（例如 1.2.3）或版本范围（例如 ^1.2）",
	"plugin %q is not installed in tenant %q: install it on the Installs page first, or pin a version":            "插件 %q 未安装在租户 %q 中：请先在“安装”页面安装该插件，或固定一个版本",

	// The binding form's choice to follow the install, and the delete of an
	// install that bindings follow.
	"this form is for version %[1]s, but the installed version is %[2]s: to follow the install, open the form for version %[2]s with the link above, or pin version %[1]s": "此表单对应版本 %[1]s，而已安装的版本是 %[2]s：要跟随安装，请通过上方的链接打开版本 %[2]s 的表单，或固定版本 %[1]s",
	"bindings follow the install of plugin %q: delete them on the Bindings page, or pin each to a version through the API with PATCH and \"version\"":                      "有绑定跟随插件 %q 的安装：请在“绑定”页面删除它们，或通过 API 用 PATCH 和 \"version\" 为每个绑定固定一个版本",
}
