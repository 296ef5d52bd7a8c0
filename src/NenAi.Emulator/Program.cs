using System;
using System.Linq;
using System.Threading.Tasks;
using NenAi.Emulator;

// dotnet run --project src/NenAi.Emulator -- [--urls http://127.0.0.1:5080] [--config file.json] [--allow-remote] [--log]
string? configPath = null, statePath = null;
string url = "http://127.0.0.1:5080";
bool allowRemote = false, requestLog = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--config" when i + 1 < args.Length: configPath = args[++i]; break;
        case "--urls" when i + 1 < args.Length: url = args[++i].Split(';')[0]; break;
        case "--state" when i + 1 < args.Length: statePath = args[++i]; break;
        case "--allow-remote": allowRemote = true; break;
        case "--log": requestLog = true; break;
        case "-h":
        case "--help":
            Console.WriteLine("NenAi.Emulator: a local stand-in for the Nen API (api.getnen.ai).");
            Console.WriteLine("  --urls <url>       where to listen (default http://127.0.0.1:5080; port 0 picks a free one)");
            Console.WriteLine("  --config <file>    JSON configuration (default: emulator.sample.json beside the program)");
            Console.WriteLine("  --state <file>     keep accepted runs in this file across restarts");
            Console.WriteLine("  --allow-remote     allow a non-loopback address");
            Console.WriteLine("  --log              log each request (never query strings)");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Try --help.");
            return 2;
    }
}

EmulatorConfig config;
try
{
    config = configPath is null ? EmulatorConfig.CreateDemo() : EmulatorConfig.Load(configPath);
    if (statePath != null) config.StateFile = statePath;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"Cannot read the configuration: {ex.Message}");
    return 2;
}

EmulatorServer server;
try
{
    server = await EmulatorServer.StartAsync(config, url, allowRemote, requestLog);
}
catch (Exception ex)
{
    Console.Error.WriteLine($"Cannot start the emulator: {ex.Message}");
    return 1;
}

string baseUrl = server.BaseUri.ToString().TrimEnd('/');
Console.WriteLine($"Nen API emulator listening on {baseUrl}");
// Demo credentials are printed on purpose: they only open this local emulator.
var demo = config.ApiKeys.FirstOrDefault();
if (demo != null)
{
    Console.WriteLine($"  NEN_BASE_URL={baseUrl}");
    Console.WriteLine($"  NEN_API_KEY={demo.Key}");
    if (demo.SigningKey != null) Console.WriteLine($"  NEN_SIGNING_KEY={demo.SigningKey}");
    Console.WriteLine($"  NEN_WEBHOOK_SECRET={config.WebhookSecret}");
}
foreach (var w in config.Workflows) Console.WriteLine($"  workflow {w.Id}  {w.Name}");
Console.WriteLine("Press Ctrl+C to stop.");
Console.Out.Flush();

await server.WaitForShutdownAsync();
Console.WriteLine("Emulator stopped.");
return 0;
