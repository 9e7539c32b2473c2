using System.Collections.Concurrent;
using System.Text;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>One line of the fault table: what was done to the agent, what must happen, what did, and what data was lost.</summary>
internal sealed record FaultRow(string Fault, string Expected, string Observed, string DataLost);

/// <summary>
/// Collects a row from every fault test as it observes it, and at the end of the collection writes the table as Markdown to
/// <c>TestResults/fault-table.md</c> beside the test project and to the test run's diagnostic output.
/// </summary>
public sealed class FaultTable(IMessageSink sink) : IDisposable
{
    private readonly ConcurrentQueue<FaultRow> _rows = new();

    internal void Record(ITestOutputHelper output, FaultRow row)
    {
        _rows.Enqueue(row);
        output.WriteLine($"{row.Fault} | {row.Expected} | {row.Observed} | data lost: {row.DataLost}");
    }

    public void Dispose()
    {
        if (_rows.IsEmpty)
        {
            return;
        }
        var table = new StringBuilder()
            .AppendLine("| fault | expected | observed | data lost |")
            .AppendLine("| --- | --- | --- | --- |");
        foreach (var row in _rows.OrderBy(r => r.Fault, StringComparer.Ordinal))
        {
            table.AppendLine($"| {row.Fault} | {row.Expected} | {row.Observed} | {row.DataLost} |");
        }
        var path = Path.Combine(ProjectDirectory(), "TestResults", "fault-table.md");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, table.ToString());
        sink.OnMessage(new DiagnosticMessage($"Fault table ({path}):\n{table}"));
    }

    // bin/<configuration>/<framework>/ under the project folder.
    private static string ProjectDirectory() => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", ".."));
}

// Alone, after the parallel collections: the load test would otherwise skew what other tests measure in this process
// (allocations, timings), and the faults' own timings are read without others' load.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection : ICollectionFixture<FaultTable>
{
    public const string Name = "fault injection";
}
