using System.Globalization;
using Native.Map.Bench.Common;

namespace Native.Map.Bench.Demo;

/// <summary>
/// The demo's optional third contestant (<c>demo --go</c>): Go's own <c>map[int64]int64</c>, the
/// design NativeMap ports, measured by a small Go program (<c>Native.Map.Bench/GoMap/main.go</c>)
/// that mirrors <see cref="DemoChild"/> and writes the same JSON.
/// </summary>
/// <remarks>
/// The program is compiled once per demo run with the Go tool the user names (or <c>go</c> on the
/// PATH) into the demo's output folder. Nothing here runs without <c>--go</c>: neither the README's
/// demo command nor CI needs a Go toolchain.
/// </remarks>
internal sealed class GoContestant
{
    /// <summary>The map name the Go child reports.</summary>
    public const string Name = "GoMap";

    private readonly string _binary;

    private GoContestant(string binary, string version)
    {
        _binary = binary;
        Version = version;
    }

    /// <summary>What <c>go version</c> printed for the tool the child was built with.</summary>
    public string Version { get; }

    /// <summary>Builds the Go child with <paramref name="goTool"/> into <paramref name="outDir"/>.</summary>
    public static GoContestant Build(string goTool, string outDir)
    {
        string source = Path.Combine(AppContext.BaseDirectory, "GoMap");
        if (!File.Exists(Path.Combine(source, "main.go")))
        {
            throw new InvalidOperationException($"demo --go: the Go program is missing from {source} (it is copied there by the build).");
        }
        string version = Tool(goTool, ["version"], source, "go version").Trim();
        Directory.CreateDirectory(outDir);
        string binary = Path.GetFullPath(Path.Combine(outDir, "gomap"));
        DemoChild.Progress($"building the Go contestant with {version}");
        Tool(goTool, ["build", "-o", binary, "."], source, "go build");
        return new GoContestant(binary, version);
    }

    /// <summary>Runs one measurement of Go's map in a process of its own: (exit code, the JSON it wrote).</summary>
    public (int ExitCode, string Output) Run(string mode, int n, int round, bool quick) =>
        SelfProcess.RunProgram(
            _binary,
            [
                "--mode", mode, "--n", n.ToString(CultureInfo.InvariantCulture), "--round", round.ToString(CultureInfo.InvariantCulture),
                "--phase-ms", quick ? "100" : "250",
            ]);

    private static string Tool(string goTool, string[] args, string directory, string what)
    {
        int exit;
        string output;
        try
        {
            (exit, output) = SelfProcess.RunProgram(goTool, args, new Dictionary<string, string?> { ["GOFLAGS"] = null, ["GOTOOLCHAIN"] = "local" }, directory);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // A wrong or missing tool is a bad argument: the demo prints this and exits with 2.
            throw new ArgumentException(
                $"demo --go: could not start the Go tool '{goTool}' ({e.Message}). Install Go 1.19–1.23 (Debian: apt-get install golang-go) or name the tool: --go /path/to/go.", e);
        }
        if (exit != 0)
        {
            throw new InvalidOperationException($"demo --go: {what} failed with exit code {exit}.");
        }
        return output;
    }
}
