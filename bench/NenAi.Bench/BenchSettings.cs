using System;
using NenAi.Core.Configuration;
using NenAi.Core.Http;

namespace NenAi.Bench
{
    /// <summary>What every benchmark shares: sizes from the command line, the emulator, a core client and the keys.</summary>
    public sealed class BenchSettings
    {
        public const string ApiKey = "bench-api-key";
        public const string SigningKey = "bench-signing-key";
        public const string Workflow = "0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21";
        public const string WaitWorkflow = "5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a5a";

        private readonly string[] _args;

        public BenchSettings(string[] args)
        {
            _args = args;
            Quick = Array.IndexOf(args, "--quick") >= 0;
            LatencyMs = Int("--latency", 20);
            WaitSpreadSec = Int("--wait-spread", Quick ? 6 : 60);
        }

        public bool Quick { get; }
        public int LatencyMs { get; }
        public int WaitSpreadSec { get; }

        /// <summary>The emulator's configuration: a workflow that accepts anything, and one whose runs end at random within the wait spread.</summary>
        public string EmulatorConfig => $$"""
            {
              "apiKeys": [ { "name": "bench", "key": "{{ApiKey}}", "signingKey": "{{SigningKey}}" } ],
              "honourIdempotencyKey": false,
              "workflows": [
                { "id": "{{Workflow}}", "name": "bench", "extraParams": "ignore", "queuedMs": 0, "durationMs": 1000 },
                { "id": "{{WaitWorkflow}}", "name": "spread", "extraParams": "ignore", "queuedMs": 0, "durationMs": 0, "durationJitterMs": {{WaitSpreadSec * 1000}} }
              ]
            }
            """;

        public static SecretValue Secret(string s) => SecretValue.FromChars(s.AsSpan());

        /// <summary>A core client for <paramref name="emulator"/>, signing every request.</summary>
        public static NenApiClient Client(EmulatorProcess emulator) =>
            new NenApiClient(NenClientOptions.Resolve(emulator.BaseUri.ToString(), Secret(ApiKey), Secret(SigningKey), environment: _ => null));

        public HostedEngine Engine(EmulatorProcess emulator) => new HostedEngine(emulator.BaseUri, ApiKey, SigningKey);

        public string? Text(string name)
        {
            int i = Array.IndexOf(_args, name);
            return i >= 0 && i + 1 < _args.Length ? _args[i + 1] : null;
        }

        public int Int(string name, int fallback) => int.TryParse(Text(name), out int v) ? v : fallback;
    }
}
