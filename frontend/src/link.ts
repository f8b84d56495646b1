/**
 * The kernel's side of a turn reaches the notebook through a comm (target
 * `copilot_magic.notebook`, opened by the kernel for each `%%copilot` cell). The window
 * whose execute request started the cell answers `hello`, then each request of the
 * notebook tools: `cells` (read every cell), `review` (an edit, an insert or a delete,
 * reviewed on its cell; a rewind's way back too) and `outputs` (what a cell Copilot ran
 * printed and displayed, shown under it). Other
 * windows on the same kernel stay silent. Answers go on a kernel subshell, so the kernel
 * reads them while the cell still runs; a kernel without subshells gets no hello and runs
 * the turn without the notebook tools.
 */
import { NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { JSONObject } from '@lumino/coreutils';

import { applyAtOnce } from './applied';
import { cellsOf, showOutputs } from './cells';
import { ChangeRequest, Review, review } from './review';

export const TARGET = 'copilot_magic.notebook';
const PROTOCOL = 1;

type Answer = JSONObject;

async function answer(
  panel: NotebookPanel,
  request: JSONObject,
  reviews: Set<Review>,
  alive: () => boolean
): Promise<Answer> {
  switch (request.operation) {
    case 'cells':
      return { cells: cellsOf(panel) };
    case 'outputs':
      return showOutputs(panel, request);
    case 'review': {
      const change = request as unknown as ChangeRequest;
      return change.purpose === 'apply'
        ? applyAtOnce(panel, change)
        : await review(panel, change, reviews, alive);
    }
    default:
      return { outcome: 'error', error: `unknown operation ${String(request.operation)}` };
  }
}

async function opened(
  panel: NotebookPanel,
  kernel: Kernel.IKernelConnection,
  comm: Kernel.IComm,
  message: KernelMessage.ICommOpenMsg
): Promise<void> {
  const ranBy = (message.parent_header as Partial<KernelMessage.IHeader>).session;
  if (ranBy !== kernel.clientId) {
    return; // another window ran the cell: it answers
  }
  await kernel.info;
  if (!kernel.supportsSubshells) {
    return; // an answer would wait for the cell to end: no notebook tools this turn
  }
  // The comm's subshell (JupyterLab's CommHandler has it; Kernel.IComm does not say so).
  await (comm as Kernel.IComm & { subshellStarted?: Promise<void> }).subshellStarted;
  const reviews = new Set<Review>();
  const alive = (): boolean => !comm.isDisposed && !kernel.isDisposed;
  // A review lasts no longer than its turn: the comm closing, the kernel restarting,
  // dying or being changed, or the notebook closing withdraws it, and nothing changes.
  const withdrawAll = (): void => {
    reviews.forEach(pending => pending.withdraw());
    reviews.clear();
  };
  const onStatus = (_: Kernel.IKernelConnection, status: Kernel.Status): void => {
    if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
      withdrawAll();
    }
  };
  kernel.statusChanged.connect(onStatus);
  kernel.disposed.connect(withdrawAll);
  panel.sessionContext.kernelChanged.connect(withdrawAll);
  panel.disposed.connect(withdrawAll);
  const stopWatching = (): void => {
    kernel.statusChanged.disconnect(onStatus);
    kernel.disposed.disconnect(withdrawAll);
    panel.sessionContext.kernelChanged.disconnect(withdrawAll);
    panel.disposed.disconnect(withdrawAll);
  };
  // Not awaited: a review waits for the person, and kernel messages (the reply
  // streaming into the cell) must go on meanwhile.
  comm.onMsg = (received: KernelMessage.ICommMsgMsg): void => {
    const request = received.content.data;
    if (request.type === 'ping') {
      comm.send({ type: 'pong' }); // this page is still here (a reloaded one says nothing)
      return;
    }
    if (request.type !== 'request' || typeof request.id !== 'number') {
      return;
    }
    void answer(panel, request, reviews, alive)
      .catch(
        (error: unknown): Answer => ({ outcome: 'error', error: String(error) })
      )
      .then(found => {
        if (!comm.isDisposed) {
          comm.send({ type: 'answer', id: request.id, answer: found });
        }
      });
  };
  comm.onClose = (): void => {
    withdrawAll();
    stopWatching();
  };
  comm.send({ type: 'hello', protocol: PROTOCOL, path: panel.context.path });
}

/** Answer the kernel of ``panel``, whichever kernel it runs now. */
export function linkKernel(panel: NotebookPanel): void {
  const register = (kernel: Kernel.IKernelConnection | null | undefined): void => {
    // Not awaited: JupyterLab handles no other kernel message (the cell's outputs, the
    // replies that start the comm's subshell) until a comm target's handler returns.
    kernel?.registerCommTarget(TARGET, (comm, message) => {
      void opened(panel, kernel, comm, message);
    });
  };
  panel.sessionContext.kernelChanged.connect((_, change) =>
    register(change.newValue)
  );
  void panel.sessionContext.ready.then(() =>
    register(panel.sessionContext.session?.kernel)
  );
}
