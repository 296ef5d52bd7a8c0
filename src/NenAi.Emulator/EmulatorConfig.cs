using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace NenAi.Emulator
{
    /// <summary>The emulator's configuration file (see emulator.sample.json).</summary>
    public sealed class EmulatorConfig
    {
        public static readonly JsonSerializerOptions JsonOptions = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            PropertyNameCaseInsensitive = true,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            WriteIndented = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };

        public List<ApiKeyConfig> ApiKeys { get; set; } = new List<ApiKeyConfig>();
        /// <summary>Signs webhooks (X-Hmac-Signature).</summary>
        public string WebhookSecret { get; set; } = "whsec-demo";
        /// <summary>Honour Idempotency-Key (same key and body within 24 h → the original 202). The real service may not.</summary>
        public bool HonourIdempotencyKey { get; set; } = true;
        public int PresignedUrlLifetimeSeconds { get; set; } = 3600;
        /// <summary>Timestamp tolerance for signed requests (spec: ±300 s).</summary>
        public int SignatureWindowSeconds { get; set; } = 300;
        public int MaxBodyBytes { get; set; } = 1024 * 1024;
        /// <summary>Sent as Retry-After on status answers of unfinished runs (0: none).</summary>
        public int StatusRetryAfterSeconds { get; set; }
        /// <summary>Quote input values (secure ones too) in 422 messages, as a badly behaved service might; the client must scrub them.</summary>
        public bool EchoInputInErrors { get; set; }
        /// <summary>Keep accepted runs in this JSON Lines file, so a restarted emulator still knows them.</summary>
        public string? StateFile { get; set; }
        public WebhookConfig Webhooks { get; set; } = new WebhookConfig();
        public FaultSettings Faults { get; set; } = new FaultSettings();
        public List<WorkflowConfig> Workflows { get; set; } = new List<WorkflowConfig>();

        public static EmulatorConfig Load(string path)
        {
            string json = File.ReadAllText(path);
            return JsonSerializer.Deserialize<EmulatorConfig>(json, JsonOptions) ?? throw new InvalidDataException($"'{path}' holds no configuration.");
        }

        /// <summary>The built-in demo used when no --config is given (same as emulator.sample.json).</summary>
        public static EmulatorConfig CreateDemo()
        {
            string path = Path.Combine(AppContext.BaseDirectory, "emulator.sample.json");
            if (File.Exists(path)) return Load(path);
            throw new FileNotFoundException("emulator.sample.json is missing beside the emulator; pass --config.", path);
        }
    }

    public sealed class ApiKeyConfig
    {
        public string Name { get; set; } = "default";
        public string Key { get; set; } = string.Empty;
        /// <summary>The HMAC signing key for this API key; null means this key cannot sign.</summary>
        public string? SigningKey { get; set; }
    }

    public sealed class WebhookConfig
    {
        /// <summary>Deliveries per update: 1 + retries (spec §11: up to 3 retries).</summary>
        public int MaxAttempts { get; set; } = 4;
        public double TimeoutSeconds { get; set; } = 5;
        public int BackoffMilliseconds { get; set; } = 500;
        /// <summary>Deliver every update twice (receivers must de-duplicate).</summary>
        public bool Duplicate { get; set; }
        /// <summary>Share of updates (0..1) delivered twice, both copies at once.</summary>
        public double DuplicateRate { get; set; }
        /// <summary>Share of updates (0..1) lost on the way: never delivered (a receiver's polling must find the run).</summary>
        public double DropRate { get; set; }
        /// <summary>Every delivery waits this long first, plus a random 0..<see cref="DelayJitterMs"/> ms (so updates also overtake each other).</summary>
        public int DelayMs { get; set; }
        public int DelayJitterMs { get; set; }
        /// <summary>Share of runs (0..1) whose final update is sent before their processing one.</summary>
        public double ReorderRate { get; set; }
        /// <summary>Makes the rates above repeatable.</summary>
        public int? Seed { get; set; }
    }

    public sealed class WorkflowConfig
    {
        public string Id { get; set; } = string.Empty;
        public string Name { get; set; } = string.Empty;
        public Dictionary<string, ParamSpec> Params { get; set; } = new Dictionary<string, ParamSpec>();
        public Dictionary<string, SecureParamSpec> SecureParams { get; set; } = new Dictionary<string, SecureParamSpec>();
        /// <summary>"forbid" (default) refuses undeclared params with 422; "ignore" drops them.</summary>
        public string ExtraParams { get; set; } = "forbid";
        public int QueuedMs { get; set; } = 100;
        public int DurationMs { get; set; } = 1000;
        /// <summary>A random 0..N ms is added to each run's duration.</summary>
        public int DurationJitterMs { get; set; }
        public List<FailRule> FailWhen { get; set; } = new List<FailRule>();
        public JsonObject? Result { get; set; }
        public List<FileSpec> Files { get; set; } = new List<FileSpec>();
        /// <summary>
        /// What a failed run leaves to download (its logs, partial results: spec §11 Q3 says failed payloads may carry
        /// results). None by default: a failed run's payload then has no results.
        /// </summary>
        public List<FileSpec> FailedFiles { get; set; } = new List<FileSpec>();
        /// <summary>Extra entries placed inside assets.zip verbatim (tests use it for zip-slip names).</summary>
        public List<FileSpec> ZipEntries { get; set; } = new List<FileSpec>();
    }

    public sealed class ParamSpec
    {
        /// <summary>string, integer, number, boolean, object, array or any.</summary>
        public string Type { get; set; } = "string";
        public bool Required { get; set; }
        public int? MinLength { get; set; }
        public int? MaxLength { get; set; }
        public double? Minimum { get; set; }
        public double? Maximum { get; set; }
    }

    public sealed class SecureParamSpec
    {
        public bool Required { get; set; } = true;
        public int? MinLength { get; set; }
    }

    public sealed class FailRule
    {
        public string Param { get; set; } = string.Empty;
        public string EqualsValue { get; set; } = string.Empty;
        public string Message { get; set; } = "The workflow failed.";
    }

    public sealed class FileSpec
    {
        public string Name { get; set; } = "result.txt";
        /// <summary>Text content; "{message_id}" and "{workflow_id}" are replaced.</summary>
        public string? Content { get; set; }
        /// <summary>Generated content of this many bytes (when Content is null).</summary>
        public int? SizeBytes { get; set; }
        public string ContentType { get; set; } = "application/octet-stream";
    }
}
