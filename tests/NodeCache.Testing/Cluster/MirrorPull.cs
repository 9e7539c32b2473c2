using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using NodeCache.Oci;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// Pulls an image over plain HTTP the way containerd does through hosts.toml, and hashes everything it receives: the
/// tag resolved with a HEAD, the manifest by digest, then the config and layers by digest, three at a time (containerd's
/// default <c>max_concurrent_downloads</c>), every request with <c>?ns=</c>. Each request goes to the hosts in order (the
/// mirror first, the registry itself last) and moves on after a connection error or any 4xx or 5xx, as containerd does.
/// A body cut short is resumed from the byte reached with a Range request, as containerd resumes its ingest when the pull
/// is retried. Nothing that fails its digest is accepted: that ends the pull with an error.
/// </summary>
public sealed class MirrorPull(HttpClient http, IReadOnlyList<Uri> hosts, string registry)
{
    /// <summary>What the pull sends as its User-Agent, so Harbor's log tells its requests (after a fallback) from the agents'.</summary>
    public const string UserAgent = "simulated-containerd";

    /// <summary>containerd's default number of blobs fetched at once.</summary>
    public const int ConcurrentDownloads = 3;

    /// <summary>Attempts per blob before the pull fails; between them the pull waits <see cref="RetryPause"/>, as a kubelet retry would (sooner).</summary>
    public const int Attempts = 4;

    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);

    public async Task<PulledImage> PullAsync(string repository, string tag, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var (digest, resolvedBy) = await ResolveAsync(repository, tag, cancellationToken);
        var (bytes, manifestFrom) = await GetManifestAsync(repository, digest, cancellationToken);
        var manifest = ImageManifest.TryParse(bytes, MediaTypes.OciManifest, out var error)
            ?? throw new PullFailedException($"{repository}@{digest} is not a manifest: {error}");
        if (manifest.IsIndex)
        {
            throw new PullFailedException($"{repository}:{tag} is an index; the simulated nodes pull single-platform images");
        }
        using var slots = new SemaphoreSlim(ConcurrentDownloads);
        var blobs = await Task.WhenAll(manifest.RegistryBlobs.Select(async blob =>
        {
            await slots.WaitAsync(cancellationToken);
            try
            {
                return await GetBlobAsync(repository, blob, cancellationToken);
            }
            finally
            {
                slots.Release();
            }
        }));
        return new PulledImage(digest, bytes.Length, resolvedBy, manifestFrom, blobs, clock.Elapsed);
    }

    private async Task<(Digest Digest, Uri Host)> ResolveAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var host in hosts)
        {
            try
            {
                using var request = ManifestRequest(HttpMethod.Head, host, repository, tag);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.IsSuccessStatusCode && response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.First(), out var digest))
                {
                    return (digest, host);
                }
                failures.Add($"HEAD {request.RequestUri}: {(int)response.StatusCode}");
            }
            catch (HttpRequestException e)
            {
                failures.Add($"HEAD {host}: {e.Message}");
            }
        }
        throw new PullFailedException($"no host resolved {repository}:{tag}: {string.Join("; ", failures)}");
    }

    private async Task<(byte[] Bytes, Uri Host)> GetManifestAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        foreach (var host in hosts)
        {
            try
            {
                using var request = ManifestRequest(HttpMethod.Get, host, repository, digest.ToString());
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    failures.Add($"GET {request.RequestUri}: {(int)response.StatusCode}");
                    continue;
                }
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (Digest.Compute(bytes) != digest)
                {
                    throw new PullFailedException($"the manifest {digest} from {host} has the digest {Digest.Compute(bytes)}");
                }
                return (bytes, host);
            }
            catch (HttpRequestException e)
            {
                failures.Add($"GET {host}: {e.Message}");
            }
        }
        throw new PullFailedException($"no host served the manifest {repository}@{digest}: {string.Join("; ", failures)}");
    }

    private async Task<PulledBlob> GetBlobAsync(string repository, Descriptor blob, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[128 * 1024];
        long offset = 0;
        long received = 0;
        var failures = new List<string>();
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            foreach (var host in hosts)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, Url(host, $"/v2/{repository}/blobs/{blob.Digest}"));
                request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
                if (offset > 0)
                {
                    request.Headers.Range = new RangeHeaderValue(offset, null);
                }
                HttpResponseMessage response;
                try
                {
                    response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                }
                catch (HttpRequestException e)
                {
                    failures.Add($"GET {request.RequestUri}: {Reason(e)}");
                    continue;
                }
                using (response)
                {
                    if (!response.IsSuccessStatusCode)
                    {
                        failures.Add($"GET {request.RequestUri}{(offset > 0 ? $" from {offset}" : "")}: {(int)response.StatusCode}");
                        continue;
                    }
                    if (response.StatusCode != HttpStatusCode.PartialContent && offset > 0)
                    {
                        // The whole blob again: start the hash over.
                        hash.GetHashAndReset();
                        offset = 0;
                    }
                    else if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From != offset)
                    {
                        throw new PullFailedException($"{blob.Digest} from {host}: asked from byte {offset}, got Content-Range {response.Content.Headers.ContentRange}");
                    }
                    try
                    {
                        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                        int read;
                        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                        {
                            hash.AppendData(buffer, 0, read);
                            offset += read;
                            received += read;
                            if (offset > blob.Size)
                            {
                                throw new PullFailedException($"{blob.Digest} from {host}: more than its {blob.Size} bytes");
                            }
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException)
                    {
                        failures.Add($"GET {request.RequestUri}: cut at byte {offset}: {Reason(e)}");
                        break;
                    }
                    if (offset < blob.Size)
                    {
                        failures.Add($"GET {request.RequestUri}: ended at byte {offset} of {blob.Size}");
                        break;
                    }
                    var digest = Digest.FromHash(hash.GetHashAndReset());
                    if (digest != blob.Digest)
                    {
                        throw new PullFailedException($"{blob.Digest} from {host}: received {blob.Size} bytes whose digest is {digest}");
                    }
                    return new PulledBlob(blob.Digest, blob.Size, received, host, attempt, clock.Elapsed);
                }
            }
            await Task.Delay(RetryPause, cancellationToken);
        }
        throw new PullFailedException($"{repository}@{blob.Digest} failed {Attempts} times: {string.Join("; ", failures)}");
    }

    // HttpClient's own message ("An error occurred while sending the request") says nothing; the inner one says what happened.
    private static string Reason(Exception e) => e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;

    private HttpRequestMessage ManifestRequest(HttpMethod method, Uri host, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, Url(host, $"/v2/{repository}/manifests/{reference}"));
        request.Headers.TryAddWithoutValidation("Accept", MediaTypes.ManifestAccept);
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        return request;
    }

    private Uri Url(Uri host, string path) => new(host, $"{path}?ns={Uri.EscapeDataString(registry)}");
}

/// <summary>A pull that could not finish, or received bytes that are not what the manifest names.</summary>
public sealed class PullFailedException(string message) : Exception(message);

/// <summary>What one node received for an image: the manifest's digest and where each part came from, every blob hashed.</summary>
public sealed record PulledImage(Digest ManifestDigest, long ManifestSize, Uri ResolvedBy, Uri ManifestFrom, IReadOnlyList<PulledBlob> Blobs, TimeSpan Elapsed)
{
    /// <summary>Config and layer bytes, each counted once.</summary>
    public long Size => Blobs.Sum(b => b.Size);

    /// <summary>Requests that did not come from the first host (the mirror).</summary>
    public int FromOtherHosts(Uri mirror) => (ResolvedBy == mirror ? 0 : 1) + (ManifestFrom == mirror ? 0 : 1) + Blobs.Count(b => b.From != mirror);
}

/// <summary>One blob as received: its size, the bytes that came over the wire for it (more when a cut transfer started over), who served its end, and after how many attempts.</summary>
public sealed record PulledBlob(Digest Digest, long Size, long BytesReceived, Uri From, int Attempts, TimeSpan Elapsed);
