package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/invopop/jsonschema"
)

// operation describes one endpoint for the OpenAPI document. Request and
// Response are zero values of the Go types the endpoint decodes and
// encodes; nil means no body.
type operation struct {
	Method   string
	Path     string
	Summary  string
	Tag      string
	Request  any
	Response any
	// Status is the success status, 200 when zero.
	Status int
	// Public operations need no bearer token.
	Public bool
	// Edge operations take an edge token.
	Edge bool
	// Query lists the query parameters the operation reads.
	Query []queryParam
}

// queryParam is one query parameter of an operation. Type is a JSON Schema
// type: "string", "integer" or "boolean".
type queryParam struct {
	Name, Type, Description string
}

// openAPIDoc is the built document, kept after the first request.
var openAPIDoc struct {
	once sync.Once
	data []byte
	err  error
}

// serveOpenAPI serves GET /api/v1/openapi.json.
func serveOpenAPI(c *fiber.Ctx) error {
	openAPIDoc.once.Do(func() {
		openAPIDoc.data, openAPIDoc.err = json.Marshal(buildOpenAPI(operations()))
	})
	if openAPIDoc.err != nil {
		return openAPIDoc.err
	}
	c.Set(fiber.HeaderContentType, "application/json")
	return c.Send(openAPIDoc.data)
}

// fiberParam matches a Fiber path parameter such as ":slug".
var fiberParam = regexp.MustCompile(`:([a-zA-Z_]+)`)

// openAPIPath turns "/tenants/:slug" into "/tenants/{slug}".
func openAPIPath(path string) string {
	return fiberParam.ReplaceAllString(path, "{$1}")
}

// buildOpenAPI returns the OpenAPI 3.1 document of ops. Request schemas
// require only what the docs call required; response schemas require every
// field that the encoder always writes.
func buildOpenAPI(ops []operation) map[string]any {
	responses := &jsonschema.Reflector{DoNotReference: true, Anonymous: true, AllowAdditionalProperties: true}
	requests := &jsonschema.Reflector{DoNotReference: true, Anonymous: true, RequiredFromJSONSchemaTags: true}
	problem := schemaOf(responses, Problem{})

	paths := map[string]map[string]any{}
	for _, op := range ops {
		path := openAPIPath(op.Path)
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(op.Method)] = op.document(requests, responses, problem)
	}

	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Portcullis portal API",
			"version":     "1",
			"description": "Tenants, upstreams, routes, consumers, plugins and bindings of a Portcullis service. Errors are RFC 9457 problem documents.",
		},
		"servers": []map[string]any{{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "a personal API token, a session token from login, or the operator token"},
				"edge":   map[string]any{"type": "http", "scheme": "bearer", "description": "an edge token from POST /api/v1/edge-tokens"},
			},
		},
		"security": []map[string]any{{"bearer": []string{}}},
	}
}

// document returns the OpenAPI operation object of op.
func (op operation) document(requests, responses *jsonschema.Reflector, problem *jsonschema.Schema) map[string]any {
	status := op.Status
	if status == 0 {
		status = http.StatusOK
	}

	success := map[string]any{"description": http.StatusText(status)}
	if op.Response != nil {
		success["content"] = jsonContent(schemaOf(responses, op.Response))
	}
	doc := map[string]any{
		"summary":     op.Summary,
		"operationId": operationID(op),
		"tags":        []string{op.Tag},
		"responses": map[string]any{
			statusKey(status): success,
			"default":         map[string]any{"description": "a problem document", "content": map[string]any{"application/problem+json": map[string]any{"schema": problem}}},
		},
	}
	params := pathParameters(op.Path)
	for _, query := range op.Query {
		params = append(params, map[string]any{"name": query.Name, "in": "query", "required": false, "description": query.Description, "schema": map[string]any{"type": query.Type}})
	}
	if len(params) > 0 {
		doc["parameters"] = params
	}
	if op.Request != nil {
		doc["requestBody"] = map[string]any{"required": true, "content": jsonContent(schemaOf(requests, op.Request))}
	}
	switch {
	case op.Public:
		doc["security"] = []map[string]any{}
	case op.Edge:
		doc["security"] = []map[string]any{{"edge": []string{}}}
	}
	return doc
}

func jsonContent(schema *jsonschema.Schema) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

// schemaOf reflects the JSON Schema of v's type without the $schema and
// $id keywords, which OpenAPI schema objects do not carry. A pointer field
// may be null.
func schemaOf(r *jsonschema.Reflector, v any) *jsonschema.Schema {
	t := reflect.TypeOf(v)
	schema := r.ReflectFromType(t)
	schema.Version, schema.ID = "", ""
	allowNullPointers(t, schema)
	return schema
}

// allowNullPointers walks t and its schema together and lets each property
// of a pointer field also be null, as encoding/json writes a nil pointer.
func allowNullPointers(t reflect.Type, schema *jsonschema.Schema) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if schema == nil {
		return
	}

	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		allowNullPointers(t.Elem(), schema.Items)
	case reflect.Struct:
		if schema.Properties == nil {
			return
		}
		for i := range t.NumField() {
			field := t.Field(i)
			name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
			if field.Anonymous && name == "" {
				allowNullPointers(field.Type, schema)
				continue
			}
			if !field.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = field.Name
			}
			property, found := schema.Properties.Get(name)
			if !found {
				continue
			}
			allowNullPointers(field.Type, property)
			if field.Type.Kind() == reflect.Pointer {
				schema.Properties.Set(name, &jsonschema.Schema{OneOf: []*jsonschema.Schema{property, {Type: "null"}}})
			}
		}
	}
}

func statusKey(status int) string {
	return strconv.Itoa(status)
}

func pathParameters(path string) []map[string]any {
	var params []map[string]any
	for _, match := range fiberParam.FindAllStringSubmatch(path, -1) {
		params = append(params, map[string]any{"name": match[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	return params
}

// operationID derives an id such as "get_tenants_slug_routes".
func operationID(op operation) string {
	id := strings.ToLower(op.Method) + strings.NewReplacer("/api/v1", "", "/", "_", ":", "", "-", "_").Replace(op.Path)
	return strings.TrimSuffix(id, "_")
}

// undocumented returns the "METHOD path" of each route of app that ops do
// not describe, sorted.
func undocumented(app *fiber.App, ops []operation) []string {
	known := map[string]bool{}
	for _, op := range ops {
		known[op.Method+" "+op.Path] = true
	}

	var missing []string
	for _, route := range app.GetRoutes(true) {
		if route.Method == fiber.MethodHead || !strings.HasPrefix(route.Path, "/api/v1") && route.Path != "/healthz" {
			continue
		}
		if key := route.Method + " " + route.Path; !known[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	return missing
}
