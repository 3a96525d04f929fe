// Package pluginhost compiles tenant plugins written in Risor
// (github.com/risor-io/risor v1.8.1) and runs their hooks against requests.
//
// A plugin version is compiled once with [Compile]. [Plugin.Bind] pairs it
// with a binding's JSON config, and [Instance.Run] calls one phase hook on an
// [Exchange]. Hooks run in a sandbox that offers only the builtins listed in
// docs/plugins.md, with no modules and no imports.
package pluginhost
