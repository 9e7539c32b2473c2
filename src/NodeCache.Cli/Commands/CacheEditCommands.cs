using System.CommandLine;
using NodeCache.Control.V1;
using NodeCache.Oci;

namespace NodeCache.Cli.Commands;

/// <summary><c>nodecache evict|pin|unpin TARGET</c>: change what the cache keeps, by image reference or blob digest.</summary>
internal static class CacheEditCommands
{
    public static Command Evict() => Create("evict", "Remove an image's blobs (or one blob) from the cache", async (agent, target, cancellationToken) =>
    {
        var response = await agent.Client.EvictAsync(new EvictRequest { Target = target }, cancellationToken: cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"evicted {target}: {response.Blobs} blobs, {ByteSize.Format(response.Bytes)}");
    });

    public static Command Pin() => Create("pin", "Keep an image's blobs (or one blob) out of eviction", async (agent, target, cancellationToken) =>
    {
        var response = await agent.Client.PinAsync(new PinRequest { Target = target }, cancellationToken: cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"pinned {target}: {response.Blobs} blobs, {ByteSize.Format(response.Bytes)}");
    });

    public static Command Unpin() => Create("unpin", "Let an image's blobs (or one blob) be evicted again", async (agent, target, cancellationToken) =>
    {
        var response = await agent.Client.UnpinAsync(new UnpinRequest { Target = target }, cancellationToken: cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"unpinned {target}: {response.Blobs} blobs");
    });

    private static Command Create(string name, string description, Func<AgentConnection, string, CancellationToken, Task> call)
    {
        var target = new Argument<string>("target") { Description = "an image reference (registry/repository:tag) or a blob digest (sha256:…)" };
        var command = new Command(name, description) { target };
        command.SetAgentAction(async (parse, agent, cancellationToken) =>
        {
            var value = parse.GetValue(target)!;
            if (!Digest.TryParse(value, out _) && !ImageReference.TryParse(value, out _, out var error))
            {
                throw new CliFailure(ExitCode.BadReference, $"'{value}' is neither a digest nor an image reference: {error}");
            }
            await call(agent, value, cancellationToken).ConfigureAwait(false);
            return ExitCode.Ok;
        });
        return command;
    }
}
