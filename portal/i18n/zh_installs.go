package i18n

// installFormats translates the formats of the errors that
// portcullis.dev/portal/store reports when an install moves the bindings
// that follow it, and the conflict that ends the test vector runs of a
// binding write.
var installFormats = map[string]string{
	"test vector %q of plugin %q version %q fails with this binding's config: %s: change the config, or pin the binding to the version it runs now": "插件 %[2]q 版本 %[3]q 的测试向量 %[1]q 在此绑定的配置下失败：%[4]s：请修改配置，或把该绑定固定在它当前运行的版本上",
	"test vectors of plugin %q version %q could not run with this binding's config: %v":                                                             "插件 %q 版本 %q 的测试向量无法在此绑定的配置下运行：%v",
	"the plugin version or the config of a binding changed while its test vectors ran: send the request again":                                      "测试向量运行期间，绑定的插件版本或配置发生了变化：请重新发送请求",
}
