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
            (Process process, Uri baseUri) = ListeningProcess.Start("dotnet", new[] { Locate(), "--urls", "http://127.0.0.1:0", "--config", config }, "the emulator");
            return new EmulatorProcess(process, baseUri);
        }

        private static string Locate()
        {
            string root = ListeningProcess.RepositoryRoot();
            foreach (string configuration in new[] { "Release", "Debug" })
            {
                string path = Path.Combine(root, "src", "NenAi.Emulator", "bin", configuration, "net10.0", "NenAi.Emulator.dll");
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
