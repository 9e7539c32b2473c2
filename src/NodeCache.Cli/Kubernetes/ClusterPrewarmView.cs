using System.Text.Json.Nodes;
using NodeCache.Kubernetes;
using k8s;
using NodeCache.Prewarm;
using Spectre.Console;

namespace NodeCache.Cli.Kubernetes;

/// <summary>
/// What <c>nodecache prewarm --all-nodes|--selector</c> shows: a live table per node in a terminal, a line per change of a
/// node's phase in a log or pipe, and a summary; with <c>-o json</c> only the final status.
/// </summary>
internal sealed class ClusterPrewarmView(OutputFormat output)
{
    private readonly Dictionary<string, NodePrewarmPhase> _shown = new(StringComparer.Ordinal);
    private IReadOnlyList<string> _nodes = [];

    public void Created(ImagePrewarmResource prewarm, IReadOnlyList<string>? nodes)
    {
        _nodes = nodes ?? [];
        if (output == OutputFormat.Json)
        {
            if (nodes is null)
            {
                Console.WriteLine(Json(prewarm, null).ToJsonString());
            }
            return;
        }
        var selector = prewarm.Spec.NodeSelector is { Count: > 0 } labels ? NodeSelectorText.Format(labels) : "every node";
        Console.WriteLine($"imageprewarm/{prewarm.Metadata.Name} created: {prewarm.Spec.Images.Count} images for {selector}"
            + (nodes is null ? "" : $", {nodes.Count} nodes match now"));
        if (nodes is { Count: 0 })
        {
            Console.WriteLine("no node matches now; nodes that join with matching labels will fulfil it");
        }
    }

    /// <summary>Runs <paramref name="follow"/>, showing each state of the prewarm it reports.</summary>
    public async Task FollowAsync(Func<Action<ImagePrewarmResource>, Task> follow)
    {
        if (output == OutputFormat.Json)
        {
            await follow(_ => { }).ConfigureAwait(false);
            return;
        }
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            await follow(ShowChanges).ConfigureAwait(false);
            return;
        }
        var table = Table(null);
        await AnsiConsole.Live(table).StartAsync(async context =>
        {
            await follow(prewarm =>
            {
                Fill(table, prewarm);
                context.Refresh();
            }).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    public void Finished(ImagePrewarmResource prewarm, IReadOnlyList<string> nodes, bool timedOut)
    {
        var entries = Rows(prewarm).ToList();
        if (output == OutputFormat.Json)
        {
            Console.WriteLine(Json(prewarm, nodes).ToJsonString());
        }
        else
        {
            if (!AnsiConsole.Profile.Capabilities.Interactive)
            {
                AnsiConsole.Write(Table(prewarm));
            }
            var ready = entries.Count(e => e.Entry is { Phase: NodePrewarmPhase.Ready });
            var failed = entries.Count(e => e.Entry is { Phase: NodePrewarmPhase.Failed });
            AnsiConsole.MarkupLine(Markup.Escape(
                $"{ready} of {nodes.Count} nodes ready, {failed} failed: {ByteSize.Format(entries.Sum(e => e.Entry?.BytesFetched ?? 0))} fetched"));
        }
        foreach (var (node, entry) in entries.Where(e => e.Entry is { Phase: NodePrewarmPhase.Failed or NodePrewarmPhase.Expired }))
        {
            Console.Error.WriteLine($"nodecache: {node}: {entry!.Phase}: {entry.Message}");
        }
        if (timedOut)
        {
            var silent = nodes.Where(n => prewarm.StatusOf(n) is not { IsFinal: true }).ToList();
            Console.Error.WriteLine($"nodecache: {silent.Count} of {nodes.Count} nodes did not finish in time: {string.Join(", ", silent)}");
        }
    }

    private void ShowChanges(ImagePrewarmResource prewarm)
    {
        foreach (var (node, entry) in Rows(prewarm))
        {
            if (entry is not null && (!_shown.TryGetValue(node, out var phase) || phase != entry.Phase))
            {
                _shown[node] = entry.Phase;
                Console.WriteLine($"  {node}: {entry.Phase} {entry.Message}");
            }
        }
    }

    // The nodes that matched when it was created, then any that joined since and reported.
    private IEnumerable<(string Node, NodePrewarmStatus? Entry)> Rows(ImagePrewarmResource prewarm)
    {
        var reported = prewarm.Status?.Nodes ?? new Dictionary<string, NodePrewarmStatus>();
        return _nodes.Concat(reported.Keys.Where(k => !_nodes.Contains(k)).Order(StringComparer.Ordinal))
            .Select(node => (node, reported.TryGetValue(node, out var entry) ? entry : null));
    }

    private Table Table(ImagePrewarmResource? prewarm)
    {
        var table = new Table().AddColumns("NODE", "PHASE", "IMAGES", "FETCHED", "UPDATED", "MESSAGE");
        if (prewarm is not null)
        {
            Fill(table, prewarm);
        }
        return table;
    }

    private void Fill(Table table, ImagePrewarmResource prewarm)
    {
        table.Rows.Clear();
        foreach (var (node, entry) in Rows(prewarm))
        {
            table.AddRow(
                Markup.Escape(node),
                entry is null ? "waiting" : entry.Phase.ToString(),
                entry is null ? "" : $"{entry.ImagesReady}/{prewarm.Spec.Images.Count}",
                entry is null ? "" : ByteSize.Format(entry.BytesFetched),
                entry is null ? "" : entry.LastUpdate.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(entry?.Message ?? ""));
        }
    }

    private static JsonObject Json(ImagePrewarmResource prewarm, IReadOnlyList<string>? nodes)
    {
        var json = new JsonObject
        {
            ["name"] = prewarm.Metadata.Name,
            ["generation"] = prewarm.Metadata.Generation,
            ["spec"] = JsonNode.Parse(KubernetesJson.Serialize(prewarm.Spec)),
            ["status"] = prewarm.Status is null ? new JsonObject() : JsonNode.Parse(KubernetesJson.Serialize(prewarm.Status)),
        };
        if (nodes is not null)
        {
            json["selectedNodes"] = new JsonArray([.. nodes.Select(n => (JsonNode)JsonValue.Create(n))]);
        }
        return json;
    }
}
