package pluginhost

import (
	"fmt"

	"github.com/risor-io/risor/compiler"
	"github.com/risor-io/risor/object"
	"github.com/risor-io/risor/op"
	"github.com/risor-io/risor/vm"
)

// The VMs of one Instance run the same top-level code, and a pooled VM
// serves many requests. Module-level state would therefore leak between the
// requests that one VM serves. Compile closes that path in three checks:
//
//   - the top level contains only function definitions and assignments of
//     constant expressions (checkTopLevel), so no call at top level can
//     return a closure over a variable that later calls change,
//   - no function may assign a global (checkNoGlobalWrites), and
//   - after the top-level code ran, every global is a function or an
//     immutable value (checkImmutableGlobals), so no hook can change a
//     shared list or map in place either.
//
// Top-level code may therefore hold only functions and constants of type
// string, int, float, bool or nil. A closure that a hook creates cannot
// outlive the call: no global can hold it, ctx.vars rejects it, and a conf
// copy that a call changed is dropped (Instance.checkConfig).

// checkNoGlobalWrites rejects a function body that stores a global.
func checkNoGlobalWrites(main *compiler.Code) error {
	for _, code := range main.Flatten() {
		if code.IsRoot() {
			continue
		}

		for i := 0; i < code.InstructionCount(); {
			opcode := code.Instruction(i)
			if opcode == op.StoreGlobal {
				index := int(code.Instruction(i + 1))
				return fmt.Errorf("function %q assigns the global %q: functions may not change module-level variables, so keep per-request state in locals or ctx.vars", functionName(code), main.Global(index).Name())
			}
			i += 1 + op.GetInfo(opcode).OperandCount
		}
	}
	return nil
}

func functionName(code *compiler.Code) string {
	if code.IsNamed() {
		return code.CodeName()
	}
	return "anonymous function"
}

// checkImmutableGlobals rejects top-level values that a hook could change
// in place, such as lists and maps.
func checkImmutableGlobals(machine *vm.VirtualMachine) error {
	for _, name := range machine.GlobalNames() {
		value, err := machine.Get(name)
		if err != nil {
			continue
		}

		switch value.(type) {
		case *object.Function, *object.String, *object.Int, *object.Float, *object.Bool, *object.NilType, *funcObject, *namespace:
			continue
		}
		return fmt.Errorf("top-level variable %q is a %s: top-level code may hold only functions and constants (string, int, float, bool, nil), so return a fresh %s from a function instead", name, value.Type(), value.Type())
	}
	return nil
}
