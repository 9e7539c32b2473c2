using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using NodeCache.Oci;

namespace NodeCache.Agent.Tests.Support;

/// <summary>How a response ended: its status and headers, how many body bytes arrived, their digest, and what broke the transfer if anything did.</summary>
internal sealed record BodyRead(
    HttpStatusCode Status,
    long? ContentLength,
    string? ContentRange,
    string? ContentDigest,
    long BytesRead,
    Digest BodyDigest,
    Exception? Failure)
{
    /// <summary>The body ended cleanly with as many bytes as Content-Length announced.</summary>
    public bool Complete => Failure is null && ContentLength is { } length && BytesRead == length;

    public override string ToString() =>
        $"{(int)Status} Content-Length {ContentLength?.ToString() ?? "none"}, read {BytesRead} bytes hashing to {BodyDigest}" +
        (Failure is null ? "" : $", then {Failure.GetType().Name}: {Failure.Message}");
}

/// <summary>
/// One GET against the agent whose body is streamed through SHA-256 (never buffered), counting bytes as they arrive so a
/// test can see a client's progress while the transfer is still going.
/// </summary>
internal sealed class BlobDownload
{
    private const int BufferSize = 64 * 1024;

    private readonly TaskCompletionSource _firstBytes = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _received;

    private BlobDownload()
    {
    }

    /// <summary>Body bytes received so far.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Completes when the first body bytes arrived, or when the download ended without any.</summary>
    public Task FirstBytes => _firstBytes.Task;

    public Task<BodyRead> Completion { get; private set; } = null!;

    public static BlobDownload Start(HttpClient http, Func<HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        var download = new BlobDownload();
        download.Completion = Task.Run(() => download.RunAsync(http, request, cancellationToken), CancellationToken.None);
        return download;
    }

    /// <summary>Sends the request and reads the whole response.</summary>
    public static Task<BodyRead> ReadAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken) =>
        Start(http, () => request, cancellationToken).Completion;

    private async Task<BodyRead> RunAsync(HttpClient http, Func<HttpRequestMessage> create, CancellationToken cancellationToken)
    {
        try
        {
            using var request = create();
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            Exception? failure = null;
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                int read;
                while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    Interlocked.Add(ref _received, read);
                    _firstBytes.TrySetResult();
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                // A transfer the server broke off: what the tests look for in failure scenarios.
                failure = e;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return new BodyRead(
                response.StatusCode,
                response.Content.Headers.ContentLength,
                response.Content.Headers.ContentRange?.ToString(),
                response.Headers.TryGetValues("Docker-Content-Digest", out var digests) ? digests.SingleOrDefault() : null,
                Received,
                Digest.FromHash(hash.GetHashAndReset()),
                failure);
        }
        finally
        {
            _firstBytes.TrySetResult();
        }
    }
}
