package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	sigsyaml "sigs.k8s.io/yaml"

	"portcullis.dev/services/internal/apiclient"
)

const applyUsage = `Usage: portcullis apply -f FILE [--dry-run] [--portal URL] [--tenant SLUG]

Makes a tenant's upstreams, routes, consumers and bindings match FILE, a
YAML or JSON document such as "portcullis export" writes, in one revision.
Resources that FILE leaves out are deleted. --dry-run prints the steps
without changing anything. The token comes from PORTCULLIS_TOKEN.

`

const exportUsage = `Usage: portcullis export --tenant SLUG [-o FILE] [--portal URL]

Writes a tenant's upstreams, routes, consumers and bindings as a YAML
document that "portcullis apply -f" takes. Consumers' credentials are not
part of it. The token comes from PORTCULLIS_TOKEN.

`

// cliTimeout bounds one apply or export call.
const cliTimeout = time.Minute

// portalFlags are the connection flags of the API commands.
type portalFlags struct {
	portal string
	tenant string
}

func (p *portalFlags) register(flags *flag.FlagSet) {
	flags.StringVar(&p.portal, "portal", env("PORTAL_URL", "http://127.0.0.1:9080"), "base URL of the portal (env PORTCULLIS_PORTAL_URL)")
	flags.StringVar(&p.tenant, "tenant", "", "tenant slug")
}

func (p *portalFlags) client() (*apiclient.Client, error) {
	token := os.Getenv("PORTCULLIS_TOKEN")
	if token == "" {
		return nil, errors.New("PORTCULLIS_TOKEN is empty: set it to an API token from the portal, or to the operator token (the portal's PORTCULLIS_ADMIN_TOKEN, or the file admin-token in its data folder)")
	}
	return &apiclient.Client{BaseURL: strings.TrimRight(p.portal, "/"), Token: token}, nil
}

// applyResult is the portal's response to an apply.
type applyResult struct {
	DryRun bool `json:"dry_run"`
	Steps  []struct {
		Action   string          `json:"action"`
		Resource string          `json:"resource"`
		Before   json.RawMessage `json:"before"`
		After    json.RawMessage `json:"after"`
	} `json:"steps"`
	Revision int64 `json:"revision"`
}

// runApply runs "portcullis apply" and returns the exit code.
func runApply(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("apply", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, applyUsage); flags.PrintDefaults() }
	var conn portalFlags
	conn.register(flags)
	file := flags.String("f", "", "the document to apply")
	dryRun := flags.Bool("dry-run", false, "print the steps without changing anything")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *file == "" || flags.NArg() > 0 {
		flags.Usage()
		return 2
	}

	doc, slug, err := readDocument(*file, conn.tenant)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	client, err := conn.client()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var result applyResult
	path := fmt.Sprintf("/api/v1/tenants/%s/apply?dry_run=%t", url.PathEscape(slug), *dryRun)
	if err := client.Do(ctx, "POST", path, doc, &result); err != nil {
		printProblem(stderr, err, conn.portal)
		return 1
	}

	printSteps(stdout, &result)
	return 0
}

// readDocument reads a YAML or JSON document and returns it as JSON with
// the tenant it names; override, when set, replaces that tenant. It reads
// YAML 1.2, where only true and false are booleans, so keys and values such
// as "n" or "no" stay strings. It rejects duplicate keys and a second
// document, because either would silently drop part of the config.
func readDocument(file, override string) (json.RawMessage, string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", file, err)
	}
	parsed, err := parseDocument(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", file, err)
	}

	doc, ok := parsed.(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("%s must hold one mapping with tenant, upstreams, routes, consumers and bindings", file)
	}
	slug, _ := doc["tenant"].(string)
	if override != "" {
		slug, doc["tenant"] = override, override
	}
	if slug == "" {
		return nil, "", fmt.Errorf("%s names no tenant: add \"tenant: SLUG\" or pass --tenant", file)
	}
	encoded, err := json.Marshal(doc)
	if err != nil {
		return nil, "", fmt.Errorf("%s cannot be sent as JSON: %w", file, err)
	}
	return encoded, slug, nil
}

// parseDocument decodes exactly one YAML (or JSON) document into JSON
// values: maps with string keys, lists, strings, numbers, booleans and nil.
func parseDocument(data []byte) (any, error) {
	decoder := yaml.NewDecoder(bytes.NewReader(data))
	var doc any
	if err := decoder.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty: write the tenant's config as one YAML or JSON mapping")
		}
		return nil, fmt.Errorf("not valid YAML or JSON: %w", err)
	}
	var next any
	if err := decoder.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, errors.New("the file contains more than one YAML document: put the whole config in one document, without a second \"---\"")
	}
	return jsonValue(doc, "")
}

// jsonValue converts a decoded YAML value to one that encoding/json
// writes unchanged. path names the value in errors.
func jsonValue(value any, path string) (any, error) {
	switch typed := value.(type) {
	case map[string]any:
		for key, inner := range typed {
			converted, err := jsonValue(inner, path+"."+key)
			if err != nil {
				return nil, err
			}
			typed[key] = converted
		}
		return typed, nil
	case map[any]any:
		return nil, fmt.Errorf("%s has a key that is not a string: quote every key", strings.TrimPrefix(path, "."))
	case []any:
		for i, inner := range typed {
			converted, err := jsonValue(inner, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			typed[i] = converted
		}
		return typed, nil
	case float64:
		if math.IsInf(typed, 0) || math.IsNaN(typed) {
			return nil, fmt.Errorf("%s is %v, which JSON cannot hold: use a finite number", strings.TrimPrefix(path, "."), typed)
		}
	case time.Time:
		return nil, fmt.Errorf("%s is a YAML timestamp: quote it to send it as a string", strings.TrimPrefix(path, "."))
	}
	return value, nil
}

func printSteps(out io.Writer, result *applyResult) {
	if len(result.Steps) == 0 {
		fmt.Fprintf(out, "no changes: the tenant already matches (revision %d)\n", result.Revision)
		return
	}
	for _, step := range result.Steps {
		fmt.Fprintf(out, "%-6s %s\n", step.Action, step.Resource)
		if step.Before != nil && step.After != nil {
			fmt.Fprintf(out, "  - %s\n  + %s\n", step.Before, step.After)
		}
	}
	if result.DryRun {
		fmt.Fprintf(out, "dry run: %s, nothing changed (revision %d)\n", countSteps(len(result.Steps)), result.Revision)
		return
	}
	fmt.Fprintf(out, "applied %s in revision %d\n", countSteps(len(result.Steps)), result.Revision)
}

// countSteps returns "1 step" or "N steps".
func countSteps(n int) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}

// printProblem prints a portal problem with each field error on its line.
// A single field error that the detail already states is not repeated. A
// portal that could not be reached gets a hint to check its URL.
func printProblem(out io.Writer, err error, portal string) {
	fmt.Fprintln(out, err)
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		fmt.Fprintf(out, "  is the portal running at %s? Set --portal or PORTCULLIS_PORTAL_URL to its URL\n", portal)
	}
	var problem *apiclient.Problem
	if !errors.As(err, &problem) {
		return
	}
	if len(problem.Errors) == 1 && problem.Detail == problem.Errors[0].Field+": "+problem.Errors[0].Message {
		return
	}
	for _, field := range problem.Errors {
		fmt.Fprintf(out, "  %s: %s\n", field.Field, field.Message)
	}
}

// runExport runs "portcullis export" and returns the exit code.
func runExport(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("export", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, exportUsage); flags.PrintDefaults() }
	var conn portalFlags
	conn.register(flags)
	output := flags.String("o", "", "write the document to this file instead of standard output")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if conn.tenant == "" || flags.NArg() > 0 {
		flags.Usage()
		return 2
	}

	client, err := conn.client()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var doc map[string]json.RawMessage
	if err := client.Do(ctx, "GET", "/api/v1/tenants/"+url.PathEscape(conn.tenant)+"/export", nil, &doc); err != nil {
		printProblem(stderr, err, conn.portal)
		return 1
	}

	if err := writeDocument(doc, *output, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// writeDocument writes doc as YAML, without the revision, which apply does
// not take. The fields stay JSON until the YAML encoder reads them, so
// integers above 2^53 in a plugin config keep every digit.
func writeDocument(doc map[string]json.RawMessage, file string, stdout io.Writer) error {
	delete(doc, "revision")
	encoded, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode the document: %w", err)
	}
	encoded, err = sigsyaml.JSONToYAML(encoded)
	if err != nil {
		return fmt.Errorf("encode the document as YAML: %w", err)
	}
	if file == "" {
		_, err = stdout.Write(encoded)
		return err
	}
	if err := os.WriteFile(file, encoded, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
