package pluginhost

import (
	"context"
	"sync"

	"github.com/risor-io/risor"
	"github.com/risor-io/risor/builtins"
	"github.com/risor-io/risor/compiler"
	"github.com/risor-io/risor/object"
	risoros "github.com/risor-io/risor/os"
	"github.com/risor-io/risor/vm"
)

// allowedBuiltins names the functions of Risor's builtins package that
// plugins may call, and docs/plugins.md lists the same names. All of them
// compute on values only. spawn, chan and close are left out because they
// start or feed goroutines, and make and the byte and buffer types because
// they allocate buffers that header work does not need. call is left out
// because it flattens the error that ctx.exit raises into a plain string, and
// hash and chunk because plugins have no use for them.
//
// TODO: bound memory. Risor v1.8.1 has no allocation limit, so a hook can
// exhaust the host's memory, for example by doubling a one-byte string 30
// times, which makes it 1 GiB.
var allowedBuiltins = []string{
	"all", "any", "assert", "bool", "chr", "coalesce", "decode", "delete",
	"encode", "error", "float", "getattr", "int", "iter", "keys", "len",
	"list", "map", "ord", "reversed", "set", "sorted", "sprintf", "string",
	"try", "type",
}

// sandboxGlobals returns the global names visible to every plugin: the
// allow-listed builtins, each wrapped in a funcObject so that no attribute
// leads to a Risor module, and the stateless namespaces of stdlib.go. None
// of them has state, so all VMs share them.
var sandboxGlobals = sync.OnceValue(func() map[string]any {
	available := builtins.Builtins()
	globals := make(map[string]any, len(allowedBuiltins))
	for _, name := range allowedBuiltins {
		globals[name] = wrapBuiltin(name, available[name])
	}
	globals["list"] = newFunc("list", func(ctx context.Context, args []object.Object) object.Object {
		return listWithoutCount(ctx, args...)
	})
	for name, value := range stdlibNamespaces() {
		globals[name] = value
	}
	return globals
})

// listWithoutCount is Risor's list builtin without the list(n) form, which
// allocates n items at once and so lets one call exhaust the host's memory.
func listWithoutCount(ctx context.Context, args ...object.Object) object.Object {
	if len(args) == 1 {
		if _, isInt := args[0].(*object.Int); isInt {
			return object.Errorf("value error: list(n) is not available to plugins. Build the list with [] and append instead")
		}
	}
	return builtins.List(ctx, args...)
}

// sandboxConfig returns the Risor configuration for plugins: no default
// globals (so no os, exec, http, fmt or print), no importer, and the
// allow-listed builtins only.
func sandboxConfig() *risor.Config {
	return risor.NewConfig(
		risor.WithoutDefaultGlobals(),
		risor.WithGlobals(sandboxGlobals()),
	)
}

// sandboxCompilerOptions returns the compiler options matching sandboxConfig.
func sandboxCompilerOptions() []compiler.Option {
	return sandboxConfig().CompilerOpts()
}

// newSandboxVM creates a VM for main. Each VM gets its own empty virtual OS,
// so that Risor never falls back to the host's OS for any builtin.
func newSandboxVM(main *compiler.Code) *vm.VirtualMachine {
	options := sandboxConfig().VMOpts()
	options = append(options, vm.WithOS(risoros.NewVirtualOS(context.Background())))
	return vm.New(main, options...)
}
