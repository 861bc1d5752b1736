// Treat a Docker/OCI registry as a feed of versioned images, the way Octopus Deploy does.
package dockerfeed
