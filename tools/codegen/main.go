// Command dockerfeed-codegen generates the Node.js and Go SDKs from schema.json with Pulumi's own
// code generators (github.com/pulumi/pulumi/pkg/v3/codegen), the work `pulumi package gen-sdk`
// does through language plugins. scripts/build-codegen.sh builds it into the bootstrap's cache;
// `make codegen` runs it.
//
//	usage: dockerfeed-codegen SCHEMA OUTDIR LANGUAGE...   (LANGUAGE: nodejs, go)
//
// Each language's directory OUTDIR/<language> is replaced as a whole, so files the generator no
// longer writes disappear too.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	nodejsgen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "dockerfeed-codegen"

// noReferences is the loader for a schema that refers to no other package: every lookup fails.
type noReferences struct{}

func (noReferences) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("schema.json refers to package %q; only self-contained schemas are supported", pkg)
}

func (noReferences) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return noReferences{}.LoadPackage(d.Name, d.Version)
}

func (noReferences) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("schema.json refers to package %q; only self-contained schemas are supported", pkg)
}

func (noReferences) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return noReferences{}.LoadPackageReference(d.Name, d.Version)
}

func bind(path string) (*schema.Package, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pkg, diags, err := schema.BindSpec(spec, noReferences{}, schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: %s", path, diags.Error())
	}
	return pkg, nil
}

func generate(schemaPath, language string) (map[string][]byte, error) {
	// Bind afresh for each language: the generators record their language info on the package.
	pkg, err := bind(schemaPath)
	if err != nil {
		return nil, err
	}
	switch language {
	case "nodejs":
		return nodejsgen.GeneratePackage(tool, pkg, nil, nil, false, noReferences{})
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	default:
		return nil, fmt.Errorf("unknown language %q (nodejs or go)", language)
	}
}

func write(dir string, files map[string][]byte) error {
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		target := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, files[name], 0o644); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintf(os.Stderr, "usage: %s SCHEMA OUTDIR LANGUAGE...\n", tool)
		os.Exit(2)
	}
	schemaPath, out := os.Args[1], os.Args[2]
	for _, language := range os.Args[3:] {
		files, err := generate(schemaPath, language)
		if err == nil {
			err = write(filepath.Join(out, language), files)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %s: %v\n", tool, language, err)
			os.Exit(1)
		}
		fmt.Printf("%s: wrote %d files to %s\n", tool, len(files), filepath.Join(out, language))
	}
}
