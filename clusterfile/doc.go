// Package clusterfile reads a subcluster's config (kernel.ClusterConfig)
// from a JSON or YAML file, strictly: an unknown field, a value of the
// wrong type, a bad failure policy or duration, a duplicate key or a
// bootstrap vat that is not in vats is an error naming the file, the line
// and the field, e.g.
//
//	cluster.yaml:7: vats.bob.failurePolicy: "restrat" is not one of "terminate", "restart"
//
// Reading costs in proportion to the text: a config over MaxSize bytes,
// a YAML alias (*name, which could make a few hundred bytes stand for
// gigabytes: the "billion laughs"), a key that is not a name and a second
// YAML document are all refused, at their line.
//
// YAML is read with go.yaml.in/yaml/v3, whose node tree keeps line
// numbers; JSON is YAML, so one reader serves both.
//
// It knows the config's shape only; it does not know which bundles exist
// (the caller checks them with Options.Bundle).
package clusterfile
