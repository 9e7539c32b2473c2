using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using NodeCache.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using NodeCache.Prewarm;

namespace NodeCache.Agent.Kubernetes;

/// <summary>
/// Writes this node's entry in an ImagePrewarm's status with a JSON merge patch of the status subresource: the patch names
/// only <c>status.nodes.&lt;node&gt;</c>, so agents on other nodes writing at the same moment never overwrite each other.
/// </summary>
internal sealed partial class PrewarmStatusWriter(IKubernetes client, string nodeName, TimeProvider time, ILogger logger)
{
    private const int Attempts = 5;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);

    /// <summary>Writes <paramref name="entry"/> (stamped with the time now), or removes this node's entry when it is null.</summary>
    public async Task WriteAsync(string prewarm, int imageCount, NodePrewarmStatus? entry, CancellationToken cancellationToken)
    {
        if (entry is not null)
        {
            entry.LastUpdate = time.GetUtcNow();
        }
        var patch = new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["imageCount"] = imageCount,
                ["nodes"] = new JsonObject { [nodeName] = entry is null ? null : JsonSerializer.SerializeToNode(entry, StatusJson.Default.NodePrewarmStatus) },
            },
        };
        var backoff = FirstBackoff;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.CustomObjects.PatchClusterCustomObjectStatusAsync(
                    new V1Patch(patch, V1Patch.PatchType.MergePatch), ImagePrewarmResource.Group, ImagePrewarmResource.Version, ImagePrewarmResource.Plural, prewarm,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return; // deleted meanwhile: there is no status left to write
            }
            catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException && attempt < Attempts)
            {
                logger.LogWarning("Cannot write the status of ImagePrewarm {Name}: {Reason}; again in {Delay} ms", prewarm, ex.Message, (int)backoff.TotalMilliseconds);
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff *= 2;
            }
            catch (Exception ex) when (ex is HttpOperationException or HttpRequestException or IOException)
            {
                logger.LogWarning("Gave up writing the status of ImagePrewarm {Name}: {Reason}", prewarm, ex.Message);
                return;
            }
        }
    }

    // Generated at build time: the trimmed image has no reflection-based serialization.
    [JsonSerializable(typeof(NodePrewarmStatus))]
    private sealed partial class StatusJson : JsonSerializerContext;
}
