/**
 * The `samsa` command: `samsa start` runs the Kafka-protocol brokers (start.ts); `samsa group`
 * lists and describes the consumer groups of a running cluster (group.ts); `samsa demo` runs
 * the actor runtime demo (demo.ts).
 */
import { DEMO_USAGE, runDemo } from './demo.js';
import { GROUP_USAGE, runGroup } from './group.js';
import { runStart, START_USAGE } from './start.js';

const USAGE = `${START_USAGE}

${GROUP_USAGE}

${DEMO_USAGE}
  the actor runtime demo: batches streamed through the worker-thread rings`;

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'start') return runStart(rest);
  if (command === 'group') {
    process.exitCode = await runGroup(rest);
    return;
  }
  if (command === 'demo') return runDemo(rest);
  console.error(USAGE);
  process.exitCode = 2;
}

main().catch((error: Error) => {
  console.error(`samsa: ${error.message}`);
  process.exit(2);
});
