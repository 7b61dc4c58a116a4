// Package clusterfile reads a subcluster's config (kernel.ClusterConfig)
// from a JSON or YAML file, strictly: an unknown field, a value of the
// wrong type, a bad failure policy or duration, a duplicate key or a
// bootstrap vat that is not in vats is an error naming the file, the line
// and the field, e.g.
//
//	cluster.yaml:7: vats.bob.failurePolicy: "restrat" is not one of "terminate", "restart"
//
// YAML is read with go.yaml.in/yaml/v3, whose node tree keeps line
// numbers; JSON is YAML, so one reader serves both.
//
// It knows the config's shape only; it does not know which bundles exist
// (the caller checks them with Options.Bundle).
package clusterfile
