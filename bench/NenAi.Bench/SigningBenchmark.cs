using System;
using System.Diagnostics;
using NenAi.Core.Configuration;
using NenAi.Core.Signing;

namespace NenAi.Bench
{
    /// <summary>Row 4: request signing and webhook verification cost, against plain SHA-256 of the same bytes.</summary>
    public static class SigningBenchmark
    {
        public static void Run(BenchSettings settings)
        {
            Report.Line("\n4. Signing and webhook verification cost per operation");
            using SecretValue key = BenchSettings.Secret(BenchSettings.SigningKey);
            foreach (int size in new[] { 1024, 1024 * 1024 })
            {
                byte[] body = new byte[size];
                new Random(1).NextBytes(body);
                int iterations = size > 4096 ? (settings.Quick ? 50 : 200) : (settings.Quick ? 5_000 : 20_000);
                double hash = Time(iterations, () => RequestSigner.BodyHash(body, body.Length));
                double sign = Time(iterations, () => RequestSigner.Sign(key, RequestSigner.CanonicalRequest("POST", "/runs", "1730319600", RequestSigner.BodyHash(body, body.Length))));
                string signature = WebhookSignature.Compute(key, body);
                var secrets = new[] { key };
                double verify = Time(iterations, () => WebhookSignature.Verify(body, signature, secrets));
                string label = size >= 1024 * 1024 ? "1 MiB" : "1 KiB";
                Report.Line($"  absolute {label}: SHA-256 {hash:0.0} µs, request signing {sign:0.0} µs, webhook verification {verify:0.0} µs");
                Report.Ratio($"4. request signing / SHA-256 ({label})", sign / hash, size >= 1024 * 1024 ? 1.5 : 6, false, "body hash dominates for large bodies");
                Report.Ratio($"4. webhook verification / SHA-256 ({label})", verify / hash, size >= 1024 * 1024 ? 1.5 : 6, false, "one HMAC pass");
            }
        }

        private static double Time(int iterations, Action action)
        {
            for (int i = 0; i < Math.Max(3, iterations / 10); i++) action();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++) action();
            return sw.Elapsed.TotalMilliseconds * 1000 / iterations;
        }
    }
}
