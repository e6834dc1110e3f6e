import { listAudioDevices, type AudioDevice } from "../audio/capture.js";
import type { DevicesOptions } from "../command-options.js";
import { processIo, type CommandIo } from "../internal/command-io.js";

/**
 * `encstream devices`: lists the audio devices PortAudio sees, inputs and outputs, with their
 * index (what `--input-device` takes), channels and default rate, the defaults marked; as a
 * table or (`--json`) a JSON array on `io.stdout`. Capture with `send --input mic` happens at
 * the device's default rate.
 *
 * @throws CliError `"playback-unavailable"` when naudiodon2 or its libraries are missing.
 */
export async function runDevices(options: DevicesOptions, io: CommandIo = processIo()): Promise<AudioDevice[]> {
  const devices = await listAudioDevices();
  if (options.json) {
    io.stdout.write(`${JSON.stringify(devices)}\n`);
    return devices;
  }
  const lines = [`${"index".padStart(5)}  ${"in".padStart(3)}  ${"out".padStart(3)}  ${"rate Hz".padStart(7)}  name`];
  for (const d of devices) {
    const marks = [d.defaultInput ? "default input" : "", d.defaultOutput ? "default output" : ""].filter((m) => m !== "").join(", ");
    lines.push(
      `${String(d.id).padStart(5)}  ${String(d.inputChannels).padStart(3)}  ${String(d.outputChannels).padStart(3)}  ${String(Math.round(d.sampleRateHz)).padStart(7)}  ` +
        `${d.name} (${d.hostApi})${marks === "" ? "" : ` [${marks}]`}`,
    );
  }
  if (devices.length === 0) lines.push("(no audio devices)");
  io.stdout.write(`${lines.join("\n")}\n`);
  return devices;
}
