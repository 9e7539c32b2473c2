using Tomlyn.Model;
using Tomlyn.Serialization;

namespace NodeCache.Cli.Containerd;

/// <summary>hosts.toml's serializer, generated at build time: the trimmed image has no reflection-based serialization.</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class HostsToml : TomlSerializerContext;
