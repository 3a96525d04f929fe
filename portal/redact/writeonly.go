package redact

import (
	"net/url"
	"strconv"
	"strings"
)

// writeOnlyNames returns the name of every property, anywhere in a schema
// document, whose value holds a writeOnly value with no name of its own:
// its schema, or a schema that it applies to its items or members, has
// "writeOnly": true. Local references such as "#/$defs/secret" are
// followed. The name rule hides these names where the walk cannot tell
// which sub-schema applies.
func writeOnlyNames(document any) map[string]bool {
	return newWriteOnlyWalk(document).names()
}

// rootID is the node id of the whole document, the JSON pointer "".
const rootID = 0

// pointerStep is the last reference token of a normalised JSON pointer,
// together with the node id of the pointer without it.
type pointerStep struct {
	parent int
	token  string
}

// writeOnlyWalk finds the writeOnly schemas of one schema document. Its
// containsWriteOnly examines each object and array of the document at most
// once per walk, however many properties and references reach it
// (TestWriteOnlyWalkExaminesNodesOnce).
//
// A JSON document is a tree, so a normalised JSON pointer names exactly one
// node. Nodes are keyed by node ids that nodeIDs assigns to normalised
// pointers, step by step from the root, so that no pointer string is built.
// A normalised pointer has each reference token decoded and each array
// index in decimal without leading zeros.
type writeOnlyWalk struct {
	document any
	nodeIDs  map[pointerStep]int

	// found stores, for each node whose walk has finished, whether it
	// reaches a writeOnly schema.
	found map[int]bool
	// The walk finds strongly connected components, as in Tarjan's
	// algorithm, so that a node of a recursive schema gets its result only
	// when its whole cycle is done. open lists the nodes whose result is
	// not known yet, order numbers them in the order the walk reached
	// them, and reached counts the nodes reached so far.
	order   map[int]int
	open    []int
	reached int

	// examined counts the objects and arrays whose members the walk read.
	examined int
}

func newWriteOnlyWalk(document any) *writeOnlyWalk {
	return &writeOnlyWalk{
		document: document,
		nodeIDs:  map[pointerStep]int{},
		found:    map[int]bool{},
		order:    map[int]int{},
	}
}

// childID returns the node id of the member token of the node with id
// parent.
func (w *writeOnlyWalk) childID(parent int, token string) int {
	step := pointerStep{parent: parent, token: token}
	id, known := w.nodeIDs[step]
	if !known {
		id = len(w.nodeIDs) + 1
		w.nodeIDs[step] = id
	}
	return id
}

func (w *writeOnlyWalk) names() map[string]bool {
	names := map[string]bool{}
	w.collectNames(w.document, rootID, names)
	return names
}

func (w *writeOnlyWalk) collectNames(node any, id int, names map[string]bool) {
	switch typed := node.(type) {
	case map[string]any:
		if properties, ok := typed["properties"].(map[string]any); ok {
			propertiesID := w.childID(id, "properties")
			for name, schema := range properties {
				if w.containsWriteOnly(schema, w.childID(propertiesID, name)) {
					names[name] = true
				}
			}
		}
		for key, inner := range typed {
			if isContainer(inner) {
				w.collectNames(inner, w.childID(id, key), names)
			}
		}
	case []any:
		for i, inner := range typed {
			if isContainer(inner) {
				w.collectNames(inner, w.childID(id, strconv.Itoa(i)), names)
			}
		}
	}
}

// containsWriteOnly reports whether node, the node with id id, or a schema
// below it or behind a local "$ref" in it, has "writeOnly": true. It skips
// "properties", whose members have names that collectNames records.
func (w *writeOnlyWalk) containsWriteOnly(node any, id int) bool {
	found, _ := w.visit(node, id)
	return found
}

// notOpen is the lowest order that visit returns when node reaches no node
// that is still open.
const notOpen = int(^uint(0) >> 1)

// visit reports whether node, the node with id id, reaches a writeOnly
// schema. When it does not, visit also returns the lowest order of an open
// node that it reaches, or notOpen.
func (w *writeOnlyWalk) visit(node any, id int) (bool, int) {
	if !isContainer(node) {
		return false, notOpen
	}
	if found, done := w.found[id]; done {
		return found, notOpen
	}
	if order, isOpen := w.order[id]; isOpen {
		// A recursive schema reached itself. The first visit of this node
		// reads the rest of the cycle.
		return false, order
	}

	order := w.reached
	w.reached++
	w.order[id] = order
	w.open = append(w.open, id)
	w.examined++

	low := order
	if w.examine(node, id, &low) {
		// Every open node reaches this one. The nodes on the current path
		// of the walk lead to it, and every other open node reaches one
		// of them, or its component would have been closed.
		for _, openID := range w.open {
			w.found[openID] = true
			delete(w.order, openID)
		}
		w.open = w.open[:0]
		return true, notOpen
	}
	if low < order {
		// node reaches an open node that the walk reached before it, so it
		// stays open until that node's component is done.
		return false, low
	}

	// node and the open nodes after it form a strongly connected
	// component, and nothing that any of them reaches is writeOnly.
	for {
		last := w.open[len(w.open)-1]
		w.open = w.open[:len(w.open)-1]
		w.found[last] = false
		delete(w.order, last)
		if last == id {
			return false, notOpen
		}
	}
}

// examine reads the members and the local "$ref" of node, the node with id
// id, and reports whether one of them reaches a writeOnly schema. It
// lowers low to the lowest order of an open node that they reach.
func (w *writeOnlyWalk) examine(node any, id int, low *int) bool {
	follow := func(inner any, innerID int) bool {
		found, order := w.visit(inner, innerID)
		*low = min(*low, order)
		return found
	}

	switch typed := node.(type) {
	case map[string]any:
		if typed["writeOnly"] == true {
			return true
		}
		if ref, ok := typed["$ref"].(string); ok {
			if target, targetID, resolved := w.resolveLocal(ref); resolved && follow(target, targetID) {
				return true
			}
		}
		for keyword, inner := range typed {
			if keyword != "properties" && isContainer(inner) && follow(inner, w.childID(id, keyword)) {
				return true
			}
		}
	case []any:
		for i, inner := range typed {
			if isContainer(inner) && follow(inner, w.childID(id, strconv.Itoa(i))) {
				return true
			}
		}
	}
	return false
}

// isContainer reports whether value is a JSON object or array, the only
// values that can hold a schema.
func isContainer(value any) bool {
	switch value.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// resolveLocal returns the part of the document that a reference such as
// "#/$defs/secret" points to and its node id, or false when it points
// nowhere. The fragment is percent-decoded first and then read as a JSON
// Pointer, so "%2F" also separates reference tokens, and "~1" and "~0"
// stand for "/" and "~". An array index with a sign or leading zeros, such
// as "+1" or "01", resolves too.
//
// NOTE: only JSON Pointer fragments resolve. A reference by "$anchor" or
// "$id" points nowhere here, so a writeOnly schema reached only that way
// is not found.
func (w *writeOnlyWalk) resolveLocal(ref string) (any, int, bool) {
	fragment, found := strings.CutPrefix(ref, "#")
	if !found {
		return nil, 0, false
	}
	fragment, err := url.PathUnescape(fragment)
	if err != nil {
		return nil, 0, false
	}
	if fragment == "" {
		return w.document, rootID, true
	}
	pointer, found := strings.CutPrefix(fragment, "/")
	if !found {
		return nil, 0, false
	}

	current, id := w.document, rootID
	for _, token := range strings.Split(pointer, "/") {
		token = strings.ReplaceAll(strings.ReplaceAll(token, "~1", "/"), "~0", "~")
		switch typed := current.(type) {
		case map[string]any:
			inner, present := typed[token]
			if !present {
				return nil, 0, false
			}
			current, id = inner, w.childID(id, token)
		case []any:
			index, err := strconv.Atoi(token)
			if err != nil || index < 0 || index >= len(typed) {
				return nil, 0, false
			}
			current, id = typed[index], w.childID(id, strconv.Itoa(index))
		default:
			return nil, 0, false
		}
	}
	return current, id, true
}
