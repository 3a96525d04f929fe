package pluginhost

import (
	"github.com/risor-io/risor/compiler"
	"github.com/risor-io/risor/object"
	"github.com/risor-io/risor/op"
)

// confParam is the local slot of a hook's conf parameter: Risor v1.8.1
// numbers a function's parameters first, in order.
const confParam = 1

// hookReadsConf reports whether hook may reach its conf argument, judged
// from the bytecode of Risor v1.8.1. A hook that cannot reach it gets nil
// instead of a copy of the config, which saves the copy.
//
// The result is false only when the hook's own code never loads, stores or
// captures slot confParam, and no function of the plugin captures a
// variable from a frame above its own (MAKE_CELL with a depth above 0),
// because that depth counts call frames at run time and could reach the
// hook's frame. Anything it cannot decide counts as a read.
func hookReadsConf(main *compiler.Code, hook *object.Function) bool {
	params := hook.Parameters()
	code := hook.Code()
	if len(params) <= confParam || code == nil || code.LocalsCount() <= confParam || code.Local(confParam).Name() != params[confParam] {
		return true
	}
	if touchesLocal(code, confParam) {
		return true
	}
	for _, other := range main.Flatten() {
		if capturesOuterFrame(other) {
			return true
		}
	}
	return false
}

// touchesLocal reports whether code loads, stores or captures local slot.
func touchesLocal(code *compiler.Code, slot int) bool {
	for i := 0; i < code.InstructionCount(); {
		opcode := code.Instruction(i)
		switch opcode {
		case op.LoadFast, op.StoreFast, op.MakeCell:
			if int(code.Instruction(i+1)) == slot {
				return true
			}
		}
		i += 1 + op.GetInfo(opcode).OperandCount
	}
	return false
}

// capturesOuterFrame reports whether code creates a closure over a variable
// of a frame other than its own.
func capturesOuterFrame(code *compiler.Code) bool {
	for i := 0; i < code.InstructionCount(); {
		opcode := code.Instruction(i)
		if opcode == op.MakeCell && code.Instruction(i+2) != 0 {
			return true
		}
		i += 1 + op.GetInfo(opcode).OperandCount
	}
	return false
}
