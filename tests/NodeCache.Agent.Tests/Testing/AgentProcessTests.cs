using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Testing;

/// <summary>
/// Only what holds whatever the agent does: that the fixture finds the agent's build, launches it with the contract
/// arguments, captures its output and stops it by PID. The agent's own behaviour is tested elsewhere.
/// </summary>
public sealed class AgentProcessTests
{
    [Fact]
    public void The_agent_build_sits_beside_the_tests()
    {
        Assert.True(File.Exists(AgentProcess.AssemblyPath), AgentProcess.AssemblyPath);
    }

    [Fact]
    public async Task The_agent_launches_with_the_contract_arguments_and_its_output_is_captured()
    {
        await using var agent = AgentProcess.Launch(AgentProcess.Upstream("harbor.test", new Uri("http://127.0.0.1:9/")));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var firstLine = await agent.Output.WaitForLineAsync(_ => true, timeout.Token);

        Assert.True(agent.Pid > 0);
        Assert.False(string.IsNullOrWhiteSpace(firstLine.Text), agent.LogTail());
        Assert.Equal(["--listen", agent.HostPort, "--cache-dir", agent.CacheDir, "--control-socket", agent.ControlSocket, "--upstream", "harbor.test=http://127.0.0.1:9"], agent.Arguments);
        Assert.True(Directory.Exists(agent.CacheDir));
        await agent.StopAsync();
        Assert.True(agent.HasExited);
        Assert.True(File.Exists(agent.LogPath));
    }

    [Fact]
    public async Task A_killed_agent_is_gone_at_once_and_leaves_no_runtime_files_in_the_temp_folder()
    {
        await using var agent = AgentProcess.Launch([]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await agent.Output.WaitForLineAsync(_ => true, timeout.Token);
        Assert.NotEmpty(ChildProcess.RuntimeIpcFiles(agent.Pid));

        agent.Kill();

        var exitCode = await agent.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual(0, exitCode);
        Assert.Empty(ChildProcess.RuntimeIpcFiles(agent.Pid));
    }
}
