// Package gen holds the types and Echo server interfaces that oapi-codegen
// generates from openapi.yaml. Nothing here is written by hand but this file
// and cfg.yaml.
package gen

//go:generate go tool oapi-codegen -config cfg.yaml ../openapi.yaml
