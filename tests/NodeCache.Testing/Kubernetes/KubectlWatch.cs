namespace NodeCache.Testing.Kubernetes;

/// <summary>A running <c>kubectl get --watch</c>: each line it prints is read in turn, so a test can follow the events a real client sees.</summary>
public sealed class KubectlWatch : IAsyncDisposable
{
    private readonly CapturedOutput _output = new(null);
    private readonly ChildProcess _process;
    private int _read;

    private KubectlWatch(string kubeconfig, IEnumerable<string> arguments) =>
        _process = ChildProcess.Start(Kubectl.BinaryPath, ["--kubeconfig", kubeconfig, .. arguments], _output);

    public static KubectlWatch Start(string kubeconfig, params string[] arguments) => new(kubeconfig, arguments);

    /// <summary>The next line kubectl printed on stdout, its columns joined by single spaces; fails if kubectl ends or says nothing for 30 s.</summary>
    public async Task<string> NextLineAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var skip = _read;
        var seen = 0;
        var line = _output.WaitForLineAsync(l => l.Stream == OutputStream.Stdout && seen++ >= skip, timeout.Token);
        if (await Task.WhenAny(line, _process.Exited) != line)
        {
            await _process.DrainOutputAsync(TimeSpan.FromSeconds(2));
            throw new InvalidOperationException($"kubectl ended with {await _process.Exited}: {_output.Text()}");
        }
        _read++;
        return string.Join(' ', (await line).Text.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _output.Dispose();
    }
}
