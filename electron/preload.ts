// The preload script: exposes one frozen, typed object as `window.tidemark` and nothing else.
// It runs sandboxed, so it may only use contextBridge and ipcRenderer.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type TidemarkClient } from '../core/api/client';

const api: TidemarkClient = Object.freeze({
  call: ((name: string, input: unknown) => ipcRenderer.invoke(IPC_CALL_CHANNEL, name, input)) as TidemarkClient['call'],
  on: ((event: string, listener: (payload: unknown) => void) => {
    const handler = (_e: IpcRendererEvent, message: { event: string; payload: unknown }) => {
      if (message.event === event) listener(message.payload);
    };
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler);
    };
  }) as TidemarkClient['on'],
});

contextBridge.exposeInMainWorld('tidemark', api);
