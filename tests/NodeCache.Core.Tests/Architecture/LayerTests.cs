using System.Text.RegularExpressions;
using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using NodeCache.Oci;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace NodeCache.Core.Tests.Architecture;

/// <summary>
/// Core's folders are layers, and every arrow points down the list: a layer may use the layers before it, never one
/// after it. The compiler does not see folders, so this test is what keeps an arrow from pointing the wrong way.
/// </summary>
public sealed class LayerTests
{
    /// <summary>Core's layers, lowest first; each folder's namespace with everything below it.</summary>
    public static readonly string[] Layers =
    [
        "NodeCache.Oci",            // the OCI model: digests, references, manifests, media types
        "NodeCache.Concurrency",    // single flight and bandwidth limits, knowing nothing of images
        "NodeCache.Control",        // where the agent and the CLI meet (the control socket's default path)
        "NodeCache.Store.Index",    // the FASTER tables: blobs and tags by key
        "NodeCache.Store.Blobs",    // blob files, their leases, recovery and scrub
        "NodeCache.Store.Images",   // the cache's content seen as images, through cached manifests
        "NodeCache.Store.Eviction", // quota, eviction, and the pins that keep blobs from it
        "NodeCache.Upstream",       // the registry client: auth, tokens, retries, failover
        "NodeCache.Telemetry",      // the instruments the layers above record into
        "NodeCache.Mirror",         // manifests and listings answered from cache or upstream, and why a request fails
        "NodeCache.Fill",           // blob fills: one upstream fetch, verified, teed to every waiting client
        "NodeCache.Peers",          // the cluster's other agents as origins of fills: membership, owners, the client, the proof
        "NodeCache.Access",         // the private-image policy that gates every request
        "NodeCache.Pulls",          // image pulls as a client makes them, tracked and counted
        "NodeCache.Prefetch",       // fetching the images of this node's pods before they are asked for
        "NodeCache.Prewarm",        // cluster-wide prewarms, through the prefetch planner
        "NodeCache.Archive",        // image archives in and out of the cache (air gaps)
    ];

    private static readonly ArchUnitNET.Domain.Architecture Core = new ArchLoader().LoadAssemblies(typeof(Digest).Assembly).Build();

    public static TheoryData<string> EachLayer => [.. Layers];

    [Theory]
    [MemberData(nameof(EachLayer))]
    public void A_layer_uses_no_layer_above_it(string layer)
    {
        var above = Layers.Skip(Array.IndexOf(Layers, layer) + 1).ToArray();
        if (above.Length == 0)
        {
            return;
        }
        var rule = Types().That().ResideInNamespaceOrBelow(layer)
            .Should().NotDependOnAny(Types().That().ResideInNamespaceMatching($@"^({string.Join('|', above.Select(Regex.Escape))})(\..+)?$"))
            .Because($"{layer} sits below {string.Join(", ", above)}");

        rule.Check(Core);
    }

    [Fact]
    public void Every_type_of_Core_lives_in_a_layer()
    {
        var homeless = Core.Types
            .Where(t => t.Namespace.FullName.StartsWith("NodeCache", StringComparison.Ordinal))
            .Where(t => !Layers.Any(l => t.Namespace.FullName == l || t.Namespace.FullName.StartsWith(l + ".", StringComparison.Ordinal)))
            .Select(t => t.FullName)
            .ToList();

        Assert.True(homeless.Count == 0, $"not in any layer (add the folder to LayerTests.Layers where it belongs): {string.Join(", ", homeless)}");
    }

    [Fact]
    public void Core_references_neither_ASP_NET_Core_nor_Kubernetes()
    {
        var references = typeof(Digest).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();

        Assert.DoesNotContain(references, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r.StartsWith("KubernetesClient", StringComparison.Ordinal) || r.StartsWith("k8s", StringComparison.Ordinal));
        Assert.Contains(references, r => r == "Microsoft.Extensions.Logging.Abstractions");
    }
}
