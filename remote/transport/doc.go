// Package transport carries a kernel's remote messages to its peers over
// protoactor-go's remote package (gRPC streams, protobuf envelopes), with
// mutual TLS from each kernel's persistent key (package identity). It
// writes no transport and no cryptography of its own: protoactor-go remote
// moves the bytes, crypto/tls and gRPC's credentials secure them.
//
// A Node is one kernel on the network: an actor that owns the kernel (so
// every call into it is made from one goroutine at a time, as package
// kernel requires), a link actor name every peer can address, and the
// remote extension listening for peers. On each step it applies the
// frames peers sent (kernel.ApplyRemote: one unit per message, duplicates
// dropped), cranks until the kernel is idle, and then sends each peer
// what the kernel says may go (kernel.RemoteSendable: flushed, not yet
// acknowledged) with its cumulative ack (kernel.RemoteAckable). Unacked
// messages are sent again every ResendEvery, which is also what carries
// them over a reconnect: the receiver drops what it applied before.
//
// The protocol is one type, Pump: it applies frames, sends what the
// kernel lets go, keeps the TLS pins and says which remotes have waited
// too long for an ack. It has no goroutine of its own; a Node's link
// actor runs it, and so does the actors runtime's kernel actor
// (actors.Config.Remote), each on the goroutine that owns its kernel.
// Listen and Release attach protoactor-go remote to an actor system and
// take it away again.
//
// Who sent a frame is what the TLS handshake authenticated, never what
// the frame says: a gRPC interceptor stamps every envelope of a stream
// with the peer id of the client certificate's key. Dialling a peer pins
// the key its remote row names; a peer whose key changed is refused by
// the handshake, and its messages wait in the outbox.
//
// A stranger's redeem of a revoked or unknown URL (or past the
// introduction limit) is answered with a refusal frame that belongs to
// no link (refusal.go): sent once per frame received, to the stranger's
// reply address with its key pinned, and nothing kept of it but, for a
// few seconds, that pin. A redeemer's pump hands a refusal to
// kernel.ApplyRefusal, which forgets a link the issuer never took up.
//
// Plaintext (Config.InsecureLoopback) is refused unless the node listens
// on a loopback address; it is for tests and demos on one machine. Then
// the frame's From is taken at its word.
//
// # Usage
//
//	n, _ := transport.Start(ctx, transport.Config{Identity: id, Host: "127.0.0.1", Kernel: k, Deliverer: d})
//	defer n.Stop(ctx)
//	n.Do(ctx, func(k *kernel.Kernel) error { ... host requests ... })
//	out, _ := n.Wait(ctx, kpid) // the settlement of a promise the host awaits
package transport
