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
    /// <summary>
    /// tests/fakes/fake_nen.py (Python's standard library) as its own process on a free loopback port: the storage of
    /// rows 9 and 10. It makes each file as it sends it, so a 2 GB file costs the server no memory, and it injects
    /// latency on downloads only (the emulator builds every file, and an archive of them, for each request).
    /// </summary>
    public sealed class FakeNenProcess : IDisposable
    {
        public const string ApiKey = "bench-fake-key";
        public const string Workflow = "11111111-1111-1111-1111-111111111111";
        private static readonly HttpClient Admin = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        private readonly Process _process;

        private FakeNenProcess(Process process, Uri baseUri) { _process = process; BaseUri = baseUri; }

        public Uri BaseUri { get; }

        /// <summary>A fake whose runs each have <paramref name="files"/> files of <paramref name="fileBytes"/> bytes.</summary>
        public static FakeNenProcess Start(int files, long fileBytes)
        {
            (Process process, Uri baseUri) = ListeningProcess.Start("python3",
                new[] { "-u", Path.Combine(ListeningProcess.RepositoryRoot(), "tests", "fakes", "fake_nen.py"), "--port", "0", "--api-key", ApiKey, "--files", files.ToString(), "--file-size", fileBytes.ToString() },
                "the fake (python3: rows 9 and 10 need it)");
            return new FakeNenProcess(process, baseUri);
        }

        public async Task SetFaultsAsync(object faults)
        {
            using var content = new StringContent(JsonSerializer.Serialize(faults), Encoding.UTF8, "application/json");
            (await Admin.PostAsync(new Uri(BaseUri, "_fake/faults"), content)).EnsureSuccessStatusCode();
        }

        public async Task<JsonObject> LedgerAsync() => (JsonObject)JsonNode.Parse(await Admin.GetStringAsync(new Uri(BaseUri, "_fake/ledger")))!;

        public void Dispose()
        {
            try { _process.Kill(); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }
}
