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
        var kept = new[] { (response.Pinned, "pinned"), (response.Retained, "kept for a pod"), (response.InUse, "being served") }
            .Where(k => k.Item1 > 0).Select(k => $"{k.Item1} {k.Item2}").ToList();
        Console.WriteLine($"evicted {target}: {response.Blobs} blobs, {ByteSize.Format(response.Bytes)}{(kept.Count > 0 ? "; kept " + string.Join(", ", kept) : "")}");
    });

    public static Command Pin() => Create("pin", "Keep an image's blobs (or one blob) out of eviction", async (agent, target, cancellationToken) =>
    {
        var response = await agent.Client.PinAsync(new PinRequest { Target = target }, cancellationToken: cancellationToken).ConfigureAwait(false);
        Console.WriteLine(response.Blobs > 0
            ? $"pinned {target}: {response.Blobs} blobs, {ByteSize.Format(response.Bytes)}"
            : $"pinned {target}: nothing of it is cached yet; it will be kept once pulled");
    });

    public static Command Unpin() => Create("unpin", "Let an image's blobs (or one blob) be evicted again", async (agent, target, cancellationToken) =>
    {
        var response = await agent.Client.UnpinAsync(new UnpinRequest { Target = target }, cancellationToken: cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"unpinned {target}: {response.Blobs} blobs may be evicted again");
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
