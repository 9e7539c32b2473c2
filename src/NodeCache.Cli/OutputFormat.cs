using System.CommandLine;
using Google.Protobuf;

namespace NodeCache.Cli;

/// <summary>How a reading command prints: a table for people, or JSON for scripts (<c>-o json</c>).</summary>
internal enum OutputFormat
{
    Table,
    Json,
}

/// <summary>The options every command shares.</summary>
internal static class CommonOptions
{
    public static readonly Option<OutputFormat> Output = new("--output", "-o")
    {
        Description = "table or json",
        DefaultValueFactory = _ => OutputFormat.Table,
        Recursive = true,
    };

    public static readonly Option<string?> Agent = new("--agent")
    {
        Description = "the agent's control socket (PATH or unix:PATH) or http://HOST:PORT; default $NODECACHE_CONTROL_SOCKET or the agent's default socket",
        Recursive = true,
    };

    public static string Json(IMessage message) => MessageJson.Format(message);
}
