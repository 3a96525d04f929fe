package i18n

// storeFormats translates the formats of the field errors that
// portcullis.dev/portal/store reports, mostly for references to other
// resources and for plugin versions.
var storeFormats = map[string]string{
	// Bindings and installs.
	"plugin %q is not installed in tenant %q: send a version, or install the plugin first with POST /api/v1/tenants/%s/installs":                      "插件 %q 未安装在租户 %q 中：请指定 version，或先用 POST /api/v1/tenants/%s/installs 安装该插件",
	"test vector %q of plugin %q version %q fails with this config: %s: change the config, or bind another version":                                   "插件 %[2]q 版本 %[3]q 的测试向量 %[1]q 在此配置下失败：%[4]s：请修改配置，或绑定其他版本",
	"test vectors of plugin %q version %q could not run with this config: %v":                                                                         "插件 %q 版本 %q 的测试向量无法在此配置下运行：%v",
	"route %q not found in tenant %q: name an existing route, or leave route empty to bind every route":                                               "租户 %[2]q 中未找到路由 %[1]q：请指定已有的路由，或把 route 留空以绑定所有路由",
	"consumer %q not found in tenant %q: name an existing consumer, or leave consumer empty":                                                          "租户 %[2]q 中未找到消费者 %[1]q：请指定已有的消费者，或把 consumer 留空",
	"plugin %q is not published: publish it first or name a published plugin":                                                                         "插件 %q 尚未发布：请先发布它，或指定已发布的插件",
	"binding %q not found in tenant %q: list from the start without after":                                                                            "租户 %[2]q 中未找到绑定 %[1]q：请去掉 after，从头开始列出",
	"version %q of plugin %q is not published: use one of %s":                                                                                         "插件 %[2]q 的版本 %[1]q 尚未发布：请使用以下版本之一：%[3]s",
	"the patch changes nothing: send at least one of version, route, consumer, config, priority, timeout_ms, on_error, enabled, allow_hosts and tier": "该补丁没有任何改动：请至少发送 version、route、consumer、config、priority、timeout_ms、on_error、enabled、allow_hosts 和 tier 中的一项",
	"send either version, an exact version such as \"1.2.3\", or range, such as \"^1.2\"":                                                             "请发送 version（精确版本，例如 \"1.2.3\"）或 range（版本范围，例如 \"^1.2\"）",
	"send either version or range, not both":                                                                                                          "请发送 version 或 range，不要同时发送两者",
	"%q is not a supported range: use ^MAJOR, ^MAJOR.MINOR, ^MAJOR.MINOR.PATCH, ~MAJOR.MINOR or ~MAJOR.MINOR.PATCH, such as \"^1.2\"":                 "%q 不是受支持的版本范围：请使用 ^MAJOR、^MAJOR.MINOR、^MAJOR.MINOR.PATCH、~MAJOR.MINOR 或 ~MAJOR.MINOR.PATCH，例如 \"^1.2\"",
	"%q is not a valid range: %v": "%q 不是有效的版本范围：%v",
	"no version of plugin %q that is not yanked falls in %q: choose another range":                    "插件 %q 没有落在 %q 内且未被撤回的版本：请换一个版本范围",
	"plugin %q differs from %q in the path: an install cannot change its plugin":                      "插件 %q 与路径中的 %q 不同：安装的插件不能更改",
	"version %q of plugin %q is yanked and cannot be installed or bound anew: choose another version": "插件 %[2]q 的版本 %[1]q 已被撤回，不能再安装或新建绑定：请选择其他版本",

	// Domain verification.
	"the DNS lookup of TXT %s failed: %v; try again later":                                                                 "查询 TXT 记录 %s 的 DNS 请求失败：%v；请稍后重试",
	"no TXT record %s contains the token %q: publish it at your DNS provider, wait for it to propagate, then verify again": "没有任何 TXT 记录 %s 包含令牌 %q：请在你的 DNS 服务商处发布它，等待其生效后再次验证",

	// Names in the path.
	"name %q differs from %q in the path: a name cannot change, so create a new consumer instead": "名称 %q 与路径中的 %q 不同：名称不能更改，请改为新建一个消费者",
	"name %q differs from %q in the path: a name cannot change, so create a new route instead":    "名称 %q 与路径中的 %q 不同：名称不能更改，请改为新建一个路由",
	"name %q differs from %q in the path: a name cannot change, so create a new upstream instead": "名称 %q 与路径中的 %q 不同：名称不能更改，请改为新建一个上游",
	"slug %q differs from %q in the path: a slug cannot change, so create a new tenant instead":   "标识 %q 与路径中的 %q 不同：标识不能更改，请改为新建一个租户",
	"upstream %q not found in tenant %q: create it first or name an existing upstream":            "租户 %[2]q 中未找到上游 %[1]q：请先创建它，或指定已有的上游",

	// Upstream client keys.
	"client_key_set is true but upstream %q has no stored key: send the PEM private key in client_key_pem":                 "client_key_set 为 true，但上游 %q 没有已保存的密钥：请在 client_key_pem 中发送 PEM 私钥",
	"client_cert_pem does not match the stored client key: send the matching certificate, or a new client_key_pem with it": "client_cert_pem 与已保存的客户端密钥不匹配：请发送匹配的证书，或同时发送新的 client_key_pem",
	"client_key_set is true but a new upstream has no stored key: send the PEM private key in client_key_pem":              "client_key_set 为 true，但新上游没有已保存的密钥：请在 client_key_pem 中发送 PEM 私钥",

	// Credentials.
	"type %q is not supported: use key-auth, basic-auth, jwt or hmac":                                                            "不支持类型 %q：请使用 key-auth、basic-auth、jwt 或 hmac",
	"%s does not apply to a %s credential: leave it out":                                                                         "%s 不适用于 %s 凭据：请省略它",
	"key must be %d to %d printable ASCII characters without spaces: send a longer key, or leave key out to get a generated one": "key 必须是 %d 到 %d 个不含空格的可打印 ASCII 字符：请发送更长的 key，或省略 key 以获得自动生成的密钥",
	"username must be 1 to 200 printable ASCII characters without spaces or colons":                                              "username 必须是 1 到 200 个不含空格或冒号的可打印 ASCII 字符",
	"public_key does not apply to HS256: send secret instead":                                                                    "public_key 不适用于 HS256：请改为发送 secret",
	"an HS256 secret must be %d to %d bytes: use at least 256 random bits":                                                       "HS256 的 secret 必须是 %d 到 %d 字节：请使用至少 256 位随机数",
	"secret applies only to HS256: send public_key for %q":                                                                       "secret 只适用于 HS256：%q 请发送 public_key",
	"algorithm %q is not supported: use HS256, RS256, ES256 or EdDSA":                                                            "不支持算法 %q：请使用 HS256、RS256、ES256 或 EdDSA",
	"public_key is %d bytes, above the limit of %d":                                                                              "public_key 有 %d 字节，超过上限 %d",
	"public_key is not a PEM block of type PUBLIC KEY: send the PKIX public key in PEM":                                          "public_key 不是类型为 PUBLIC KEY 的 PEM 块：请以 PEM 格式发送 PKIX 公钥",
	"public_key is not a valid PKIX public key: %v":                                                                              "public_key 不是有效的 PKIX 公钥：%v",
	"an RSA key needs algorithm RS256":                                                                                           "RSA 密钥需要使用算法 RS256",
	"the RSA key has %d bits: use at least 2048":                                                                                 "该 RSA 密钥只有 %d 位：请至少使用 2048 位",
	"an ECDSA key needs algorithm ES256 and curve P-256":                                                                         "ECDSA 密钥需要使用算法 ES256 和曲线 P-256",
	"an Ed25519 key needs algorithm EdDSA":                                                                                       "Ed25519 密钥需要使用算法 EdDSA",
	"key type %T is not supported: use RSA, ECDSA P-256 or Ed25519":                                                              "不支持密钥类型 %T：请使用 RSA、ECDSA P-256 或 Ed25519",
	"key_id must be 1 to 200 printable ASCII characters without spaces":                                                          "key_id 必须是 1 到 200 个不含空格的可打印 ASCII 字符",
	"an hmac secret must be %d to %d bytes":                                                                                      "hmac 的 secret 必须是 %d 到 %d 字节",

	// Domain certificates.
	"certificate_pem contains a %q PEM block: send only CERTIFICATE blocks, and the key in private_key_pem":                               "certificate_pem 包含一个 %q PEM 块：只发送 CERTIFICATE 块，私钥放在 private_key_pem 中",
	"certificate %d of certificate_pem does not parse: %v":                                                                                "certificate_pem 中的第 %d 个证书无法解析：%v",
	"certificate_pem contains no PEM certificate: send the leaf certificate, then its intermediates, each as -----BEGIN CERTIFICATE-----": "certificate_pem 不含 PEM 证书：请先发送叶证书，再发送其中间证书，每个都以 -----BEGIN CERTIFICATE----- 开头",
	"certificate_pem has text after its last PEM block that is not PEM: remove it":                                                        "certificate_pem 的最后一个 PEM 块之后有非 PEM 文本：请删除它",
	"certificate_pem contains %d certificates, above the limit of %d":                                                                     "certificate_pem 包含 %d 个证书，超过上限 %d",
	"certificate_pem is %d bytes, above the limit of %d":                                                                                  "certificate_pem 有 %d 字节，超过上限 %d",
	"private_key_pem is %d bytes, above the limit of %d":                                                                                  "private_key_pem 有 %d 字节，超过上限 %d",
	"certificate %d of certificate_pem is not signed by certificate %d: list the leaf first, then each issuer in order (%v)":              "certificate_pem 中的第 %d 个证书不是由第 %d 个证书签发的：请先列出叶证书，再按顺序列出每个签发者（%v）",
	"private_key_pem is missing: send the leaf certificate's private key in PEM":                                                          "private_key_pem 缺失：请以 PEM 格式发送叶证书的私钥",
	"private_key_pem is not the key of the leaf certificate, or does not parse: %v":                                                       "private_key_pem 不是叶证书的私钥，或无法解析：%v",
	"the leaf certificate does not cover %q; it covers %s: upload a certificate with %q in its subject alternative names":                 "叶证书不覆盖 %q，它覆盖的是 %s：请上传主题备用名称中包含 %q 的证书",
	"the leaf certificate expired at %s: renew it and upload the new one":                                                                 "叶证书已于 %s 过期：请续期并上传新证书",
	"the leaf certificate is valid only from %s: upload it then, or fix its not_before":                                                   "叶证书从 %s 起才生效：请到时再上传，或修正它的 not_before",

	// Members and namespaces.
	"no account uses %q: ask the person to sign up with POST /api/v1/signup first":                                                                                                   "没有账号使用 %q：请让对方先用 POST /api/v1/signup 注册",
	"%q is not a valid plugin name: use \"name\" or \"namespace/name\", where the name has 1 to 63 letters, digits, dots, underscores and hyphens and starts with a letter or digit": "%q 不是有效的插件名称：请使用 \"name\" 或 \"namespace/name\"，其中 name 由 1 到 63 个字母、数字、点、下划线和连字符组成，并以字母或数字开头",
	"%q is reserved as a plugin name: choose another name":                                                                                                                           "%q 是保留的插件名称：请换一个名称",
	"%q is not a valid namespace: use 1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit":                                                     "%q 不是有效的命名空间：请使用 1 到 63 个小写字母、数字和连字符，并以字母或数字开头和结尾",
	"no account has the email %q: ask the person to sign up first":                                                                                                                   "没有账号的电子邮箱是 %q：请让对方先注册",
	"namespace %q does not exist: a user creates it with POST /api/v1/namespaces":                                                                                                    "命名空间 %q 不存在：用户可用 POST /api/v1/namespaces 创建它",

	// Plugin browsing and marks.
	"page %d is out of range: use 1 to %d":                "page %d 超出范围：请使用 1 到 %d",
	"q is %d bytes, above the limit of %d":                "q 有 %d 字节，超过上限 %d",
	"plugin_errors has %d entries, above the limit of %d": "plugin_errors 有 %d 项，超过上限 %d",
	"key %q is not name@version":                          "键 %q 不是 name@version 格式",
	"count of %q is negative":                             "%q 的计数为负数",
	"notice is %d bytes, above the limit of %d":           "notice 有 %d 字节，超过上限 %d",

	// Plugin versions.
	"version is %d characters, above the limit of %d":                                 "version 有 %d 个字符，超过上限 %d",
	"%q is not a semantic version: %v":                                                "%q 不是语义化版本号：%v",
	"source is missing: send the plugin's Risor source code":                          "source 缺失：请发送插件的 Risor 源代码",
	"size check failed: the source (plugin.risor) is %d bytes, above the limit of %d": "大小检查未通过：源代码（plugin.risor）有 %d 字节，超过上限 %d",
	"size check failed: the readme (README.md) is %d bytes, above the limit of %d":    "大小检查未通过：说明文档（README.md）有 %d 字节，超过上限 %d",
	"size check failed: the description is %d bytes, above the limit of %d":           "大小检查未通过：description 有 %d 字节，超过上限 %d",
	"compile check failed in %s: %v":                                                  "%s 的编译检查未通过：%v",
	"line %d, column %d: compile check failed in %s: %s":                              "第 %d 行第 %d 列：%s 的编译检查未通过：%s",
	"line %d: compile check failed in %s: %s":                                         "第 %d 行：%s 的编译检查未通过：%s",
	"compile check failed in %s: %s":                                                  "%s 的编译检查未通过：%s",
	"line %d, column %d: %s":                                                          "第 %d 行第 %d 列：%s",
	"line %d: %s":                                                                     "第 %d 行：%s",
	"test_vectors is %d bytes, above the limit of %d":                                 "test_vectors 有 %d 字节，超过上限 %d",
	"test_vectors must be a JSON array of vectors":                                    "test_vectors 必须是由测试向量组成的 JSON 数组",
	"test_vectors is invalid JSON: %v":                                                "test_vectors 不是有效的 JSON：%v",

	// Config schemas and binding configs.
	"config_schema is %d bytes, above the limit of %d":                                                     "config_schema 有 %d 字节，超过上限 %d",
	"config_schema is not valid JSON: %v":                                                                  "config_schema 不是有效的 JSON：%v",
	"config_schema.type is %v: use \"object\", because a binding's config is a JSON object":                "config_schema.type 为 %v：请使用 \"object\"，因为绑定的 config 是 JSON 对象",
	"reference %q cannot be loaded: refer only to definitions inside the schema, such as \"#/$defs/name\"": "无法加载引用 %q：只能引用 schema 内部的定义，例如 \"#/$defs/name\"",
	"config_schema is not a valid JSON Schema: %s":                                                         "config_schema 不是有效的 JSON Schema：%s",
	"missing: the JSON Schema meta-schema requires this property":                                          "缺少此属性：JSON Schema 元模式要求提供它",
	"missing: the plugin's config_schema requires this property":                                           "缺少此属性：插件的 config_schema 要求提供它",
	"unknown property: the JSON Schema meta-schema does not allow it":                                      "未知属性：JSON Schema 元模式不允许此属性",
	"unknown property: the plugin's config_schema does not allow it":                                       "未知属性：插件的 config_schema 不允许此属性",
	"does not match the JSON Schema meta-schema: %s":                                                       "不符合 JSON Schema 元模式：%s",
	"does not match the plugin's config_schema: %s":                                                        "不符合插件的 config_schema：%s",
	"config_schema applies more than %d subschemas to one config, counting each use of a $ref, allOf, anyOf, oneOf or property: refer to each definition from fewer places":                                "config_schema 对一个配置应用了超过 %d 个子模式（每次使用 $ref、allOf、anyOf、oneOf 或属性都计一次）：请减少引用每个定义的位置",
	"the patterns of config_schema add up to more than %d instructions, counting a pattern once for each place that uses it: use shorter patterns or use them in fewer places":                             "config_schema 的正则模式合计超过 %d 条指令（每处使用都计一次）：请使用更短的模式，或在更少的位置使用",
	"config_schema has an enum of more than %d values or more than %d numbers: use a pattern, minimum and maximum, or fewer values":                                                                        "config_schema 中有超过 %d 个值或超过 %d 个数字的 enum：请改用正则模式、minimum 与 maximum，或减少取值",
	"config_schema uses $dynamicRef or $recursiveRef at %s, which is not supported: use $ref":                                                                                                              "config_schema 在 %s 使用了不受支持的 $dynamicRef 或 $recursiveRef：请改用 $ref",
	"%s contains the number %s, longer than %d characters or with an exponent above %d: use a number within the range of a float64":                                                                        "%s 包含数字 %s，长度超过 %d 个字符或指数超过 %d：请使用 float64 范围内的数字",
	"checking config against the plugin's config_schema took more than %d steps: the schema applies too many subschemas to this config, so use a smaller config or ask the publisher for a simpler schema": "按插件的 config_schema 校验配置超过了 %d 步：该模式对此配置应用的子模式过多，请缩小配置，或请发布者简化模式",
	"test_vectors did not finish within %s: use fewer vectors, fewer repeats or faster hooks":                                                                                                              "test_vectors 未在 %s 内完成：请减少测试向量或重复次数，或让钩子更快",
}
