package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestOpenAPICoversEveryRoute keeps openapi.yaml in step with the routes: every
// pattern registered in server.go is a path with that method in the document.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Split the document into its path blocks.
	blocks := map[string]string{}
	var cur string
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":") {
			cur = strings.TrimSuffix(strings.TrimSpace(line), ":")
			continue
		}
		if cur != "" {
			blocks[cur] += line + "\n"
		}
	}
	routes := regexp.MustCompile(`mux\.HandleFunc\("([A-Z]+) ([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 40 {
		t.Fatalf("found only %d routes in server.go", len(routes))
	}
	for _, r := range routes {
		method, path := strings.ToLower(r[1]), r[2]
		block, ok := blocks[path]
		if !ok {
			t.Errorf("openapi.yaml has no path %s", path)
			continue
		}
		if !strings.Contains(block, "    "+method+":") {
			t.Errorf("openapi.yaml has no %s under %s", method, path)
		}
	}
}
