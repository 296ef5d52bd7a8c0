using System;
using System.Diagnostics;
using System.IO;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;

namespace NenAi.Bench
{
    /// <summary>The emulator as its own process on a free loopback port, driven through its admin API.</summary>
    public sealed class EmulatorProcess : IDisposable
    {
        private static readonly HttpClient Admin = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        private readonly Process _process;

        private EmulatorProcess(Process process, Uri baseUri) { _process = process; BaseUri = baseUri; }

        public Uri BaseUri { get; }

        public static EmulatorProcess Start(string configJson)
        {
            string config = Path.Combine(Path.GetTempPath(), $"nenai-bench-{Guid.NewGuid():N}.json");
            File.WriteAllText(config, configJson);
            string dll = Locate();
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string a in new[] { dll, "--urls", "http://127.0.0.1:0", "--config", config }) psi.ArgumentList.Add(a);
            Process process = Process.Start(psi)!;
            string? line = process.StandardOutput.ReadLine();
            const string marker = "listening on ";
            if (line is null || !line.Contains(marker)) { process.Kill(); throw new InvalidOperationException("emulator did not start: " + line); }
            // Keep draining its output so it never blocks on a full pipe.
            _ = Task.Run(() => process.StandardOutput.ReadToEnd());
            return new EmulatorProcess(process, new Uri(line.Substring(line.IndexOf(marker) + marker.Length).Trim() + "/"));
        }

        private static string Locate()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "NenAi.sln"))) dir = dir.Parent;
            foreach (string configuration in new[] { "Release", "Debug" })
            {
                string path = Path.Combine(dir!.FullName, "src", "NenAi.Emulator", "bin", configuration, "net10.0", "NenAi.Emulator.dll");
                if (File.Exists(path)) return path;
            }
            throw new FileNotFoundException("Build the emulator first (dotnet build -c Release).");
        }

        public async Task SetFaultsAsync(object faults)
        {
            using var content = new StringContent(JsonSerializer.Serialize(faults), Encoding.UTF8, "application/json");
            (await Admin.PostAsync(new Uri(BaseUri, "_emulator/faults"), content)).EnsureSuccessStatusCode();
        }

        public async Task ResetAsync() => (await Admin.PostAsync(new Uri(BaseUri, "_emulator/reset"), null)).EnsureSuccessStatusCode();

        public async Task<JsonObject> LedgerAsync(bool runs = true) =>
            (JsonObject)JsonNode.Parse(await Admin.GetStringAsync(new Uri(BaseUri, $"_emulator/ledger?runs={(runs ? "true" : "false")}")))!;

        public void Dispose()
        {
            try { _process.Kill(); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }
}
