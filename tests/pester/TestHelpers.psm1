# Shared by the Pester suites. Starting and stopping the emulator lives in tools/EmulatorProcess.psm1.
function Get-EmulatorLedger {
    param([string] $BaseUri)
    Invoke-RestMethod -Uri "$BaseUri/_emulator/ledger" -Method Get
}

function ConvertTo-SecretText {
    # Test-only: SecureStrings for the canary values.
    param([string] $Text)
    $secure = [System.Security.SecureString]::new()
    foreach ($c in $Text.ToCharArray()) { $secure.AppendChar($c) }
    $secure.MakeReadOnly()
    $secure
}

<#
.SYNOPSIS
    The command line that starts a new pwsh like this one: 'dotnet <PSHOME>/pwsh.dll' when it runs as a dotnet
    tool, else the pwsh executable.
#>
function Get-PwshCommand {
    $exe = [System.Environment]::ProcessPath
    if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, (Join-Path $PSHOME 'pwsh.dll')) }
    @($exe)
}

<#
.SYNOPSIS
    Runs a script file in a fresh pwsh process, as a user or a scheduled task would, and returns its exit code,
    standard output and error, and how long it took. Environment entries with a $null value are removed.
#>
function Invoke-FreshPwsh {
    param(
        [Parameter(Mandatory)] [string] $File,
        [string[]] $ArgumentList = @(),
        [string] $WorkingDirectory = (Get-Location).ProviderPath,
        [hashtable] $Environment = @{},
        [switch] $Interactive,
        [int] $TimeoutSec = 300,
        # A command line the pwsh command runs under (unshare, say), before its own program.
        [string[]] $Wrapper = @()
    )
    $command = @($Wrapper) + @(Get-PwshCommand)
    $psi = [System.Diagnostics.ProcessStartInfo]::new($command[0])
    foreach ($a in @($command | Select-Object -Skip 1)) { $psi.ArgumentList.Add($a) }
    foreach ($a in @('-NoProfile') + $(if ($Interactive) { @() } else { @('-NonInteractive') }) + @('-File', $File) + $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.WorkingDirectory = $WorkingDirectory
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardInput = $true
    $psi.UseShellExecute = $false
    foreach ($name in $Environment.Keys) {
        if ($null -eq $Environment[$name]) { $null = $psi.Environment.Remove($name) } else { $psi.Environment[$name] = [string]$Environment[$name] }
    }
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $process = [System.Diagnostics.Process]::Start($psi)
    try {
        $process.StandardInput.Close()
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSec * 1000)) {
            $process.Kill($true)
            throw "$File did not finish within $TimeoutSec s. Output so far: $($stdout.Result)$($stderr.Result)"
        }
        $process.WaitForExit()
        [pscustomobject]@{
            ExitCode = $process.ExitCode
            Output   = $stdout.Result
            Errors   = $stderr.Result
            Elapsed  = $clock.Elapsed
        }
    }
    finally { $process.Dispose() }
}

<#
.SYNOPSIS
    The runnable code of the documentation: every "### Example" of the cmdlet help (docs/en-US), and every
    fenced powershell block of README.md with the <!-- example ... --> line above it that says how it runs.
#>
function Get-DocExample {
    param([Parameter(Mandatory)] [string] $Root)

    function Get-FencedBlock([string[]] $Lines, [int] $From) {
        $start = $From
        while ($start -lt $Lines.Count -and $Lines[$start] -notmatch '^```') { $start++ }
        $code = [System.Collections.Generic.List[string]]::new()
        for ($i = $start + 1; $i -lt $Lines.Count -and $Lines[$i] -notmatch '^```'; $i++) { $code.Add($Lines[$i]) }
        [pscustomobject]@{ Language = $Lines[$start].Substring(3).Trim(); Code = $code -join "`n"; Line = $start + 1 }
    }

    foreach ($file in Get-ChildItem (Join-Path $Root 'docs/en-US') -Filter '*-Nen*.md' | Sort-Object Name) {
        $lines = Get-Content -LiteralPath $file.FullName
        for ($i = 0; $i -lt $lines.Count; $i++) {
            if ($lines[$i] -match '^### (Example \d+.*)') {
                $block = Get-FencedBlock $lines ($i + 1)
                @{ Source = $file.BaseName; Title = $Matches[1]; Code = $block.Code; Kind = 'help' }
            }
        }
    }

    $readme = Get-Content -LiteralPath (Join-Path $Root 'README.md')
    $heading = ''
    for ($i = 0; $i -lt $readme.Count; $i++) {
        if ($readme[$i] -match '^#{2,3} (.*)') { $heading = $Matches[1] }
        if ($readme[$i] -notmatch '^```powershell') { continue }
        # <!-- example: [<file name>] [exit=<code>] [errors=<count>] [after-install] --> right above the fence: how the
        # block is run, its exit code, how many error records it shows (a failed row the text explains, say), and
        # whether it needs the module installed as the Install section does (it then runs after that section).
        $marker = if ($i -gt 0 -and $readme[$i - 1] -match '^<!-- example(?::\s*(?<spec>[^>]*?))?\s*-->$') { "$($Matches['spec'])" } else { $null }
        $block = Get-FencedBlock $readme $i
        $file = if ($marker -match '(?<file>[\w.-]+\.ps1)') { $Matches['file'] } else { "readme-line$($block.Line).ps1" }
        $exit = if ($marker -match 'exit=(?<code>\d+)') { [int]$Matches['code'] } else { 0 }
        $errors = if ($marker -match 'errors=(?<count>\d+)') { [int]$Matches['count'] } else { 0 }
        @{ Source = 'README'; Title = "$heading (line $($block.Line))"; Heading = $heading; Code = $block.Code; Kind = 'readme'; Marked = $null -ne $marker
           File = $file; ExpectedExit = $exit; ExpectedErrors = $errors; AfterInstall = $marker -match 'after-install'; Line = $block.Line }
    }
}

<# Text without its ANSI escape sequences (colors, cursor moves), as a log reader wants it. #>
function Remove-Ansi {
    param([string] $Text)
    $Text -replace "`e(\[[0-9;?]*[ -/]*[@-~]|[=>])", ''
}

<#
.SYNOPSIS
    How many error records pwsh showed in <Text> (its standard error): each starts, unindented, with the name of the
    command (or exception) and a colon ("Start-NenRun: ..." in ConciseView, "Start-NenRun : ..." in NormalView); the
    lines of its message are indented.
#>
function Measure-ShownError {
    param([string] $Text)
    @((Remove-Ansi $Text) -split "`r?`n" | Where-Object { $_ -match '^[A-Za-z][\w.-]* ?: ' }).Count
}

<#
.SYNOPSIS
    Starts tests/fakes/fake_nen.py, the independent fake of the Nen API (Python standard library, no code shared with
    the module or the emulator), on a free loopback port. Returns Process, BaseUri and ApiKey; the extra arguments go
    to the fake (--files, --file-size, --run-seconds, --workflow). Its key is fake-api-key.
#>
<# Starts tests/fakes/<Script> with python3 and <ArgumentList>; returns its process and the address of its first line ("listening on <address>"). #>
function Start-PythonFake {
    param([string] $Script, [string[]] $ArgumentList, [string] $What)
    $psi = [System.Diagnostics.ProcessStartInfo]::new('python3')
    foreach ($a in @('-u', (Join-Path $PSScriptRoot "../fakes/$Script")) + $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch 'listening on (\S+)') {
        $process.Kill()
        throw "The $What did not start: $line"
    }
    $process, $Matches[1]
}

function Start-FakeNen {
    param([string[]] $ArgumentList = @())
    $process, $address = Start-PythonFake fake_nen.py (@('--port', '0', '--api-key', 'fake-api-key') + $ArgumentList) 'fake Nen server'
    # ApiKey as the cmdlets take it (a SecureString); ApiKeyText for raw requests.
    [pscustomobject]@{ Process = $process; BaseUri = $address; ApiKey = (ConvertTo-SecretText 'fake-api-key'); ApiKeyText = 'fake-api-key' }
}

function Stop-FakeNen {
    param($Fake)
    if ($Fake -and -not $Fake.Process.HasExited) {
        $Fake.Process.Kill()
        $Fake.Process.WaitForExit(10000) | Out-Null
    }
}

<# Sets the fake's faults: @{ post = @{ status = 429; retryAfter = 1; forSeconds = 20 }; get = ...; files = ... }. #>
function Set-FakeNenFault {
    param($Fake, [hashtable] $Faults = @{})
    Invoke-RestMethod -Method Post -Uri "$($Fake.BaseUri)/_fake/faults" -ContentType 'application/json' -Body ($Faults | ConvertTo-Json -Depth 5) | Out-Null
}

<# The fake's ledger: requests.post/get/files, runs (id, workflow, params, idempotencyKey), maxFilesInFlight. #>
function Get-FakeNenLedger {
    param($Fake)
    Invoke-RestMethod -Uri "$($Fake.BaseUri)/_fake/ledger"
}

function Reset-FakeNen {
    param($Fake)
    Invoke-RestMethod -Method Post -Uri "$($Fake.BaseUri)/_fake/reset" | Out-Null
}

<#
.SYNOPSIS
    Starts tests/fakes/fake_proxy.py, a forwarding HTTP proxy (Python standard library) on a free loopback port, with
    its arguments (--user, --password, --wrong-credentials 401|407, --refuse-connect STATUS). Returns Process and Uri.
#>
function Start-FakeProxy {
    param([string[]] $ArgumentList = @())
    $process, $address = Start-PythonFake fake_proxy.py (@('--port', '0') + $ArgumentList) 'fake proxy'
    [pscustomobject]@{ Process = $process; Uri = $address }
}

function Stop-FakeProxy {
    param($Proxy)
    if ($Proxy -and -not $Proxy.Process.HasExited) {
        $Proxy.Process.Kill()
        $Proxy.Process.WaitForExit(10000) | Out-Null
    }
}

<# The fake proxy's counts: forwarded, tunnels, challenged (407), refused (wrong credentials), tunnelsRefused. #>
function Get-FakeProxyLedger {
    param($Proxy)
    Invoke-RestMethod -Uri "$($Proxy.Uri)/_proxy/ledger" -NoProxy
}

<# An http:// address on loopback where nothing listens (a proxy that is down): a port the system just gave out and took back. #>
function Get-DownLoopbackUri {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { "http://127.0.0.1:$($listener.LocalEndpoint.Port)" } finally { $listener.Stop() }
}

Export-ModuleMember -Function Start-FakeNen, Stop-FakeNen, Set-FakeNenFault, Get-FakeNenLedger, Reset-FakeNen, Start-FakeProxy, Stop-FakeProxy, Get-FakeProxyLedger, Get-DownLoopbackUri, Get-EmulatorLedger, ConvertTo-SecretText, Get-PwshCommand, Invoke-FreshPwsh, Get-DocExample, Remove-Ansi, Measure-ShownError
