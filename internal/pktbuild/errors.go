package pktbuild

import "errors"

// ErrInvalid is wrapped by every Build error: a layer has a field value
// that cannot be encoded, or a type field cannot be inferred.
var ErrInvalid = errors.New("invalid layer")
